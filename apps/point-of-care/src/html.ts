// HTML text escaping for the app's server-rendered pages.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const esc = (v: string | number) => String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
