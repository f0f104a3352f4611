// The EHR's look for an embedded app (SMART App Launch 2.2, "Styling"): `smart_style_url` names a JSON document of
// colours, fonts and sizes. The app reads it on the server and turns the values it knows into CSS custom properties,
// each checked against a strict pattern, so a hostile style document cannot inject CSS or markup.
// @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#styling

const KNOWN = ['color_background', 'color_error', 'color_highlight', 'color_success', 'color_text', 'dim_border_radius', 'dim_font_size', 'dim_spacing_size', 'font_family_body', 'font_family_heading'] as const;
/** Colours (#hex, rgb(), names), lengths and font lists: no `;`, braces, angle brackets, backslashes or url(). */
const SAFE_VALUE = /^(?!.*url\()[#a-zA-Z0-9 ,.()%'"-]{1,120}$/;

export type SmartStyle = Partial<Record<(typeof KNOWN)[number], string>>;

export async function fetchSmartStyle(url: string | undefined, fetchImpl: typeof fetch = fetch): Promise<SmartStyle> {
  if (!url || !/^https?:\/\//.test(url)) return {};
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(3000), headers: { accept: 'application/json' } });
    if (!res.ok) return {};
    const doc = (await res.json()) as Record<string, unknown>;
    const style: SmartStyle = {};
    for (const key of KNOWN) if (typeof doc[key] === 'string' && SAFE_VALUE.test(doc[key] as string)) style[key] = doc[key] as string;
    return style;
  } catch {
    return {}; // the app keeps its own look: styling is a hint, never a reason to fail
  }
}

/** `:root { --color-background: …; }` for the values the document had. */
export function styleCss(style: SmartStyle): string {
  const vars = Object.entries(style).map(([k, v]) => `--${k.replace(/_/g, '-')}: ${v};`).join(' ');
  return vars ? `:root { ${vars} }` : '';
}
