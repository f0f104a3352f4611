// A minimal browser for in-process tests of the authorization pages: keeps cookies, follows the server's own
// redirects, reads the CSRF token out of forms, and stops at a redirect to the app (returning its parameters).
// The real-browser tests (playwright + chromium) drive the same pages end to end.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface PageResult {
  status: number;
  url: string;
  html: string;
  headers: Record<string, unknown>;
}

export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: FastifyInstance, private readonly appOrigin: string) {}

  /** GETs or POSTs and follows same-server redirects; a redirect to the app ends with `url` set to it. */
  async go(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<PageResult> {
    let res = await this.send(method, url, form);
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 10; hops++) {
      const location = String(res.headers.location);
      if (location.startsWith(this.appOrigin)) return { ...res, url: location };
      res = await this.send('GET', location);
    }
    return res;
  }

  async send(method: 'GET' | 'POST', url: string, form?: URLSearchParams): Promise<PageResult> {
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const res = await this.app.inject({
      method, url: path, payload: form?.toString(),
      headers: {
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      },
    });
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return { status: res.statusCode, url: path, html: res.body, headers: res.headers };
  }

  /** Submits the page's form, with the hidden fields it carries, plus `fields`. */
  async submit(page: PageResult, fields: Record<string, string | string[]>): Promise<PageResult> {
    const action = /<form method="post" action="([^"]+)"/.exec(page.html)?.[1];
    if (!action) throw new Error(`no form on the page:\n${page.html}`);
    const form = new URLSearchParams();
    for (const m of page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, decode(m[2]!));
    for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) form.append(k, value);
    return this.go('POST', decode(action), form);
  }
}

const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** The values of the page's scope checkboxes, and which are checked. */
export function scopeCheckboxes(html: string): { value: string; checked: boolean }[] {
  return [...html.matchAll(/<input type="checkbox" name="scope" value="([^"]*)"( checked)?>/g)].map((m) => ({ value: decode(m[1]!), checked: Boolean(m[2]) }));
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
