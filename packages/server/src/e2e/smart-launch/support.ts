// Helpers for the real-HTTP SMART tests in this folder: a Firekeeper server listening on a loopback port (its base URL
// is the URL it really listens on), and a tiny SMART app (node:http on another loopback port) that launches the way a
// real app does: discovery from `iss`, PKCE S256, state and nonce, then a code exchange at the token endpoint.
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../store/database.ts';
import { listeningApp } from '../../test-support/listening-app.ts';

// ---------------------------------------------------------------------------------------------------------------
// Firekeeper on a real socket

export interface RunningFirekeeper {
  /** The public base URL (`http://127.0.0.1:<port>`): the issuer, and where the server really listens. */
  base: string;
  fhirBase: string;
  db: Database;
  app: FastifyInstance;
  /** Creates or updates resources over HTTP with a `system/*.*` token (for seeding). */
  put(...resources: (Record<string, unknown> & { resourceType: string; id: string })[]): Promise<void>;
  close(): Promise<void>;
}

/** Firekeeper on this test file's database, listening on loopback (see test-support/listening-app.ts). */
export async function startFirekeeper(): Promise<RunningFirekeeper> {
  const { app, db, base, fhirBase, seedToken } = await listeningApp();
  return {
    base, fhirBase, db, app,
    async put(...resources) {
      for (const r of resources) {
        const res = await fetch(`${fhirBase}/${r.resourceType}/${r.id}`, {
          method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${seedToken}` }, body: JSON.stringify(r),
        });
        if (res.status !== 200 && res.status !== 201) throw new Error(`seeding ${r.resourceType}/${r.id}: ${res.status} ${await res.text()}`);
      }
    },
    close: () => app.close(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The SMART app

/** What a standalone launch asks for (see smart-launch.test.ts for why it names Patient and Observation). */
export const STANDALONE_SCOPE = 'openid fhirUser launch/patient patient/Patient.rs patient/Observation.rs offline_access';
/** What an EHR launch asks for. */
export const EHR_SCOPE = 'launch openid fhirUser patient/*.rs';

/** One authorization request the app started, remembered (by `state`) until the browser comes back. */
export interface PendingLaunch {
  clientId: string;
  iss: string;
  launch?: string;
  scope: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** The full URL the app sent the browser to. */
  authorizeUrl: string;
}

export interface TokenExchange {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- token responses are asserted field by field
  json: any;
  launch: PendingLaunch;
}

export interface SmartTestApp {
  /** The app's registration with this EHR (set once the client is registered, which needs `redirectUri`). */
  clientId: string;
  origin: string;
  redirectUri: string;
  /** Every launch the app started, by state. */
  launches: Map<string, PendingLaunch>;
  /** The app's launch URL. `client_id` is a test knob (a real app is registered once per EHR): see the handler. */
  launchUrl(params?: Record<string, string>): string;
  /** What the app does on its redirect URI: find the launch by `state`, exchange `code` with the PKCE verifier. */
  exchange(callbackUrl: string): Promise<TokenExchange>;
  close(): Promise<void>;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Starts the app. `/launch` takes `iss` (EHR launch; default: `fhirBase`, a standalone launch) and `launch`, checks
 * that `iss` is a server it knows, reads `{iss}/.well-known/smart-configuration` and redirects to its authorization
 * endpoint. `/callback` (the redirect URI) just shows a page: the test reads the browser's URL and calls `exchange`.
 */
export async function startSmartApp(o: { fhirBase: string }): Promise<SmartTestApp> {
  const launches = new Map<string, PendingLaunch>();
  let origin = '';

  const server: Server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const page = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><html lang="en"><head><title>Test app</title></head><body><h1>${text.replace(/[<>&"]/g, '')}</h1></body></html>`);
    };
    if (url.pathname === '/callback') return page(200, url.searchParams.has('error') ? 'Authorization failed' : 'Authorization received');
    if (url.pathname !== '/launch') return page(404, 'Not found');
    launch(url).then(
      (location) => {
        res.writeHead(302, { location, 'cache-control': 'no-store' });
        res.end();
      },
      (err: Error) => page(400, err.message),
    );
  });

  async function launch(url: URL): Promise<string> {
    const iss = url.searchParams.get('iss') ?? o.fhirBase;
    // An app must only talk to servers it trusts: an unknown iss would get the app's tokens.
    if (iss !== o.fhirBase) throw new Error(`unknown iss ${iss}`);
    const launchId = url.searchParams.get('launch') ?? undefined;
    // Test knob: a real app has one client_id per EHR; the tests use a client per test so that approvals one test
    // gives (Firekeeper remembers them per user and client) do not skip another test's consent page.
    const clientId = url.searchParams.get('client_id') ?? smartApp.clientId;
    const configRes = await fetch(`${iss}/.well-known/smart-configuration`, { headers: { accept: 'application/json' } });
    if (!configRes.ok) throw new Error(`smart-configuration: ${configRes.status}`);
    const config = (await configRes.json()) as { authorization_endpoint: string; token_endpoint: string };
    const { verifier, challenge } = pkcePair();
    // Characters that need encoding, so that "echoed exactly" means something.
    const state = `${randomBytes(9).toString('base64url')} &x=1/?`;
    const nonce = randomBytes(12).toString('base64url');
    const scope = launchId ? EHR_SCOPE : STANDALONE_SCOPE;
    const params = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: `${origin}/callback`, scope, state, nonce, aud: iss,
      code_challenge: challenge, code_challenge_method: 'S256',
    });
    if (launchId) params.set('launch', launchId);
    const authorizeUrl = `${config.authorization_endpoint}?${params}`;
    launches.set(state, {
      clientId, iss, launch: launchId, scope, state, nonce, codeVerifier: verifier,
      authorizationEndpoint: config.authorization_endpoint, tokenEndpoint: config.token_endpoint, authorizeUrl,
    });
    return authorizeUrl;
  }

  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const smartApp: SmartTestApp = {
    clientId: '',
    origin,
    redirectUri: `${origin}/callback`,
    launches,
    launchUrl: (params = {}) => `${origin}/launch${Object.keys(params).length ? `?${new URLSearchParams(params)}` : ''}`,
    async exchange(callbackUrl) {
      const callback = new URL(callbackUrl);
      const state = callback.searchParams.get('state') ?? '';
      const pending = launches.get(state);
      if (!pending) throw new Error(`the app started no launch with state ${JSON.stringify(state)}`);
      const code = callback.searchParams.get('code');
      if (!code) throw new Error(`no code on the redirect: ${callbackUrl}`);
      const res = await fetch(pending.tokenEndpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code', code, redirect_uri: `${origin}/callback`, code_verifier: pending.codeVerifier, client_id: pending.clientId,
        }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined, launch: pending };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return smartApp;
}
