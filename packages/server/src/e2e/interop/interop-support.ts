// Shared by the interoperability tests: a real Firekeeper listening on loopback (its base URL is the address it
// listens on, because the issuer and every endpoint derive from it), seed data written over HTTP, and a small
// fetch-based "browser" that follows redirects by hand, keeps cookies per origin and submits Firekeeper's forms —
// the socket-level twin of test-support/oauth-browser.ts.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../store/database.ts';
import { listeningApp } from '../../test-support/listening-app.ts';

export { scopeCheckboxes } from '../../test-support/oauth-browser.ts';

export const PASSWORD = 'correct horse battery';

export interface RunningFirekeeper {
  app: FastifyInstance;
  db: Database;
  /** e.g. http://127.0.0.1:41234 — the issuer. */
  base: string;
  /** `${base}/fhir` — the `aud` and the `iss` of a SMART launch. */
  fhirBase: string;
  /** A FHIR request with a `system/*.*` token minted as the token endpoint would. */
  fhir(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR bodies are asserted field by field
}

/** A real Firekeeper on loopback (see test-support/listening-app.ts). */
export async function startFirekeeper(): Promise<RunningFirekeeper> {
  const { app, db, base, fhirBase, seedToken } = await listeningApp();
  return {
    app, db, base, fhirBase,
    async fhir(method, path, body) {
      const res = await fetch(`${fhirBase}/${path}`, {
        method,
        headers: { authorization: `Bearer ${seedToken}`, accept: 'application/fhir+json', ...(body ? { 'content-type': 'application/fhir+json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
  };
}

export interface Page {
  status: number;
  /** The URL this page was loaded from (or, when a redirect was not followed, the redirect target). */
  url: string;
  html: string;
  headers: Headers;
}

/**
 * A user agent without JavaScript: follows redirects itself (`redirect: 'manual'`), keeps each origin's cookies
 * (stricter than a browser, which would share 127.0.0.1 cookies across ports), and submits HTML forms.
 */
export class HttpBrowser {
  private readonly jars = new Map<string, Map<string, string>>();
  /** Every URL requested, in order (for asserting what the client library sent). */
  readonly visited: string[] = [];

  /**
   * GETs (or POSTs a form to) `url` and follows redirects. `stopAt` ends the walk at the first redirect whose
   * target it accepts, without requesting it: `url` is then that target.
   */
  async go(url: string, o: { form?: URLSearchParams; stopAt?: (location: URL) => boolean } = {}): Promise<Page> {
    let current = new URL(url);
    let res = await this.send(current, o.form);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops >= 20) throw new Error(`too many redirects, last at ${current.href}`);
      const location = res.headers.get('location');
      if (!location) break;
      current = new URL(location, current);
      if (o.stopAt?.(current)) return { status: res.status, url: current.href, html: await res.text(), headers: res.headers };
      await res.arrayBuffer();
      res = await this.send(current);
    }
    return { status: res.status, url: current.href, html: await res.text(), headers: res.headers };
  }

  /** Submits the page's (first POST) form with its hidden fields plus `fields`, resolving `action` against the page. */
  async submit(page: Page, fields: Record<string, string | string[]>, o: { stopAt?: (location: URL) => boolean } = {}): Promise<Page> {
    const action = /<form method="post" action="([^"]*)"/.exec(page.html)?.[1];
    if (action === undefined) throw new Error(`no form on ${page.url} (${page.status}):\n${page.html.slice(0, 2000)}`);
    const form = new URLSearchParams();
    for (const m of page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(decodeHtml(m[1]!), decodeHtml(m[2]!));
    for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) form.append(k, value);
    return this.go(new URL(decodeHtml(action), page.url).href, { form, stopAt: o.stopAt });
  }

  private async send(url: URL, form?: URLSearchParams): Promise<Response> {
    this.visited.push(url.href);
    const jar = this.jars.get(url.origin);
    const headers: Record<string, string> = { accept: 'text/html,application/json' };
    if (jar?.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form?.toString(), redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) this.store(url.origin, cookie);
    return res;
  }

  private store(origin: string, header: string): void {
    const [pair, ...attributes] = header.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const expired = attributes.some((a) => /^max-age=\s*(-\d+|0)$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

export function decodeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Signs in on Firekeeper's login page (asserting it is one). */
export async function signIn(browser: HttpBrowser, page: Page, username: string, o: { stopAt?: (location: URL) => boolean } = {}): Promise<Page> {
  if (!/<input type="hidden" name="step" value="login">/.test(page.html)) {
    throw new Error(`expected Firekeeper's sign-in page, got ${page.status} ${page.url}:\n${page.html.slice(0, 2000)}`);
  }
  return browser.submit(page, { username, password: PASSWORD }, o);
}
