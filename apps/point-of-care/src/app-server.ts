// The point-of-care app's web server: a confidential SMART app that keeps its tokens on the server, never in the
// browser. The browser holds one random, HttpOnly session cookie; behind it, the SDK's pending authorizations and
// the SMART session live in a server-side store.
//
//   GET /launch?iss=…&launch=…   EHR launch (the iss must be one of the configured FHIR servers)
//   GET /launch                  standalone launch against the first configured FHIR server (patient picker)
//   GET /callback                the authorization response: code exchange, id_token verified, session kept
//   GET /                        the patient view (or how to launch the app)
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AuthorizationError, FhirClient, FhirError, MemoryStorage, TokenError, completeAuthorization, discover, restoreSession, startAuthorization,
  type SmartSession,
} from '@firekeeper/client';
import { esc } from './html.ts';
import { loadPatientRecord, renderPatientPage } from './patient-page.ts';
import { requestedScope } from './scopes.ts';
import { fetchSmartStyle, styleCss } from './smart-style.ts';

export interface PointOfCareOptions {
  /** Where browsers reach this app (its redirect URI is `${publicUrl}/callback`). */
  publicUrl: string;
  /** The FHIR servers the app may be launched against; the first is the standalone default. */
  fhirServers: string[];
  clientId: string;
  /** Registered as a confidential-symmetric client; without a secret the app is a public client. */
  clientSecret?: string;
  fetch?: typeof fetch;
}

const COOKIE = 'poc_session';
const SESSION_IDLE_MS = 8 * 3600_000;
const MAX_SESSIONS = 1000;

interface BrowserSession { storage: MemoryStorage; seen: number }

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function pointOfCareHandler(o: PointOfCareOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const publicUrl = o.publicUrl.replace(/\/+$/, '');
  const servers = o.fhirServers.map((s) => s.replace(/\/+$/, ''));
  const sessions = new Map<string, BrowserSession>();
  const credentials = (storage: MemoryStorage) => ({ storage, clientSecret: o.clientSecret, fetch: o.fetch });
  const frameAncestors = [...new Set(servers.map((s) => new URL(s).origin))].join(' ');

  /** The browser's session (a new one, with its cookie, if it has none or an unknown one). */
  function browserSession(req: IncomingMessage, res: ServerResponse): BrowserSession {
    const id = /(?:^|;\s*)poc_session=([A-Za-z0-9_-]{43})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
    const now = Date.now();
    const known = id ? sessions.get(id) : undefined;
    if (known && now - known.seen < SESSION_IDLE_MS) {
      known.seen = now;
      return known;
    }
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!); // the oldest
    const fresh = randomBytes(32).toString('base64url');
    const session = { storage: new MemoryStorage(), seen: now };
    sessions.set(fresh, session);
    const secure = publicUrl.startsWith('https:') ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${COOKIE}=${fresh}; Path=/; HttpOnly; SameSite=Lax${secure}`);
    return session;
  }

  function page(res: ServerResponse, status: number, title: string, body: string, css = ''): void {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      // The EHR may embed the app; nothing else may, and the page runs no script at all.
      'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'self' ${frameAncestors}`,
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title === 'Point of care' ? title : `${title} · Point of care`)}</title><style>${BASE_CSS}${css}</style></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`);
  }

  async function launch(url: URL, res: ServerResponse, session: BrowserSession): Promise<void> {
    const iss = (url.searchParams.get('iss') ?? servers[0]!).replace(/\/+$/, '');
    if (!servers.includes(iss)) throw new HttpError(400, `This app is not set up for the FHIR server ${iss}.`);
    const launchId = url.searchParams.get('launch') ?? undefined;
    const config = await discover(iss, o.fetch);
    const scope = requestedScope({ v2: config.capabilities?.includes('permission-v2') ?? false, standalone: launchId === undefined });
    const location = await startAuthorization({ iss, launch: launchId, clientId: o.clientId, redirectUri: `${publicUrl}/callback`, scope, ...credentials(session.storage) });
    res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  }

  async function callback(url: URL, res: ServerResponse, session: BrowserSession): Promise<void> {
    try {
      await completeAuthorization(`${publicUrl}${url.pathname}${url.search}`, credentials(session.storage));
    } catch (err) {
      if (err instanceof AuthorizationError) throw new HttpError(400, `The app was not authorized (${err.error}${err.description ? `: ${err.description}` : ''}). Launch it again.`);
      throw err;
    }
    res.writeHead(302, { location: `${publicUrl}/`, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  }

  async function patientView(res: ServerResponse, smart: SmartSession): Promise<void> {
    const patientId = smart.context.patient;
    if (!patientId) throw new HttpError(400, 'The launch gave no patient: launch the app from a patient\'s chart, or pick a patient.');
    const fhir = new FhirClient(smart.fhirBase, smart, o.fetch);
    const record = await loadPatientRecord(fhir, patientId, smart.tokens.scope);
    const css = styleCss(await fetchSmartStyle(smart.context.smartStyleUrl, o.fetch));
    const granted = `<p class="note">Granted: <code>${esc(smart.tokens.scope)}</code></p>`;
    page(res, 200, 'Point of care', `${renderPatientPage(record, smart.context)}${granted}`, css);
  }

  async function home(res: ServerResponse, session: BrowserSession): Promise<void> {
    const smart = await restoreSession('default', credentials(session.storage));
    if (!smart) {
      return page(res, 200, 'Point of care', '<p>Launch this app from a patient\'s chart in your EHR, or <a href="launch">sign in and pick a patient</a>.</p>');
    }
    try {
      await patientView(res, smart);
    } catch (err) {
      // The refresh failed, or the server refused the token even after a refresh: revoked or expired.
      if (err instanceof TokenError || (err instanceof FhirError && err.status === 401)) {
        await smart.forget();
        return page(res, 401, 'Session ended', '<p>Your access to this record has ended (the app\'s authorization was revoked or has expired). <a href="launch">Sign in again</a> or launch the app again from your EHR.</p>');
      }
      throw err;
    }
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', publicUrl);
    const run = async () => {
      if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed.');
      const session = browserSession(req, res);
      if (url.pathname === '/launch') return launch(url, res, session);
      if (url.pathname === '/callback') return callback(url, res, session);
      if (url.pathname === '/') return home(res, session);
      throw new HttpError(404, 'Not found.');
    };
    run().catch((err: unknown) => {
      if (res.headersSent) return res.end();
      if (err instanceof HttpError) return page(res, err.status, 'Point of care', `<p class="missing">${esc(err.message)}</p>`);
      // Another server's failure (discovery, the token endpoint, FHIR): say which, never a stack trace.
      const message = err instanceof Error ? err.message : 'unexpected error';
      page(res, 502, 'Point of care', `<p class="missing">The EHR's server could not be used: ${esc(message)}</p>`);
    });
  };
}

const BASE_CSS = `
:root { --color-background: #ffffff; --color-text: #1c2833; --color-highlight: #2874a6; --color-error: #c0392b; --font-family-body: system-ui, sans-serif; }
body { margin: 0; background: var(--color-background); color: var(--color-text); font-family: var(--font-family-body); }
main { max-width: 48rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.3rem; color: var(--color-highlight); } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
.banner { background: var(--color-highlight); color: #fff; padding: 0.6rem 0.8rem; border-radius: 4px; }
.missing { color: var(--color-error); } .note { color: #566573; font-size: 0.85rem; }
.alerts { padding-left: 1rem; } .alert { margin-bottom: 0.6rem; } .alert.high strong:first-child { color: var(--color-error); }
.key { border-left: 12px solid; padding-left: 4px; margin-left: 8px; font-weight: normal; font-size: 0.85rem; }
figure { margin: 0.5rem 0 1rem; } figcaption { font-weight: 600; } code { word-break: break-all; }
`;
