// The measured scenarios: the request sequence autocannon sends, and a one-request preflight that checks
// the response is the right kind (a 200 with an empty search Bundle would otherwise look like a fast server).
// FHIR requests carry `Authorization: Bearer <token>` (minted by bench/auth.ts); K posts pre-signed client assertions,
// X exchanges authorization codes created before the run.
import type autocannon from 'autocannon';
import { transactionBundle, vitalSign, WRITER_PATIENTS } from './fixtures.ts';
import { TOKEN_PATH, X_SCOPE, type PreparedCodes, type PresignedAssertions } from './auth.ts';

export type ScenarioName = 'R' | 'S' | 'C' | 'T' | 'K' | 'X';
export const ALL_SCENARIOS: ScenarioName[] = ['R', 'S', 'C', 'T', 'K', 'X'];
/** The scenarios that send FHIR requests (with a Bearer token). */
export type FhirScenarioName = Exclude<ScenarioName, 'K' | 'X'>;

export interface Scenario {
  name: string;
  description: string;
  requests: autocannon.Request[];
  /** Checks one response; returns a problem description, or undefined when it is as expected. */
  check: (status: number, body: string) => string | undefined;
  /** The request the preflight sends (the sequence's next request). */
  sample: () => { method: string; path: string; headers: Record<string, string>; body?: string };
  /** After the measurement: a problem with the run itself (K ran out of pre-signed assertions), if any. */
  afterRun?: () => string | undefined;
}

const ACCEPT = { accept: 'application/fhir+json' };
const JSON_HEADERS = { ...ACCEPT, 'content-type': 'application/fhir+json' };
const FORM_HEADERS = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };

interface HeaderOptions {
  /** Added to every request (the Authorization header). */
  headers?: Record<string, string>;
  /** The headers of a request with a body (default: FHIR JSON). */
  bodyHeaders?: Record<string, string>;
}

/** A scenario whose single request is rebuilt for every send by `next(n)`, n counting across connections. */
function rotating(
  name: string,
  description: string,
  next: (n: number) => { method: 'GET' | 'POST'; path: string; body?: string; headers?: Record<string, string> },
  check: Scenario['check'],
  { headers = {}, bodyHeaders = JSON_HEADERS }: HeaderOptions = {},
): Scenario {
  let n = 0;
  const build = () => {
    const r = next(n++);
    return { ...r, headers: { ...(r.body === undefined ? ACCEPT : bodyHeaders), ...headers, ...r.headers } }; // fresh: autocannon adds Content-Length to it
  };
  return {
    name,
    description,
    requests: [{ setupRequest: (req) => Object.assign(req, build()) }],
    check,
    sample: build,
  };
}

const parse = (body: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

const expect = (okStatus: (s: number) => boolean, what: (json: Record<string, unknown>) => string | undefined): Scenario['check'] =>
  (status, body) => {
    if (!okStatus(status)) return `HTTP ${status}: ${body.slice(0, 300)}`;
    const json = parse(body);
    return json ? what(json) : `not JSON: ${body.slice(0, 100)}`;
  };

/**
 * A FHIR scenario. With `access` a token, every request carries `Authorization: Bearer <token>`; with a map from
 * patient id to token (patient-launch tokens), R and S rotate over those patients, each request with its patient's token.
 */
export function fhirScenario(name: FhirScenarioName, patientIds: string[], access?: string | ReadonlyMap<string, string>): Scenario {
  const ids = typeof access === 'object' ? [...access.keys()] : patientIds;
  const pick = (n: number) => ids[n % ids.length]!;
  const auth: HeaderOptions = typeof access === 'string' ? { headers: { authorization: `Bearer ${access}` } } : {};
  const as = (id: string) => (typeof access === 'object' ? { headers: { authorization: `Bearer ${access.get(id)!}` } } : {});
  const tokens = typeof access === 'object' ? ', each with its own patient-launch token (patient/*.rs)' : '';
  switch (name) {
    case 'R':
      return rotating('R', `GET /fhir/Patient/{id} over ${ids.length} ids${tokens}`, (n) => ({ method: 'GET', path: `/fhir/Patient/${pick(n)}`, ...as(pick(n)) }),
        expect((s) => s === 200, (j) => (j.resourceType === 'Patient' ? undefined : `resourceType ${String(j.resourceType)}`)), auth);
    case 'S':
      return rotating('S', `GET /fhir/Observation?patient={id}&category=vital-signs&_sort=-date&_count=20 over ${ids.length} patients${tokens}`,
        (n) => ({ method: 'GET', path: `/fhir/Observation?patient=${pick(n)}&category=vital-signs&_sort=-date&_count=20`, ...as(pick(n)) }),
        expect((s) => s === 200, (j) => {
          const entries = (j.entry ?? []) as { resource?: { resourceType?: string } }[];
          if (j.resourceType !== 'Bundle' || j.type !== 'searchset') return 'not a searchset Bundle';
          if (entries.length === 0) return 'the search found no Observations (expected some vital signs for a seeded patient)';
          return entries.every((e) => e.resource?.resourceType === 'Observation') ? undefined : 'an entry is not an Observation';
        }), auth);
    case 'C':
      return rotating('C', 'POST /fhir/Observation (vital sign)', (n) => ({
        method: 'POST',
        path: '/fhir/Observation',
        body: JSON.stringify(vitalSign(n, `Patient/${WRITER_PATIENTS[n % WRITER_PATIENTS.length]!.id}`)),
      }), expect((s) => s === 201, (j) => (j.resourceType === 'Observation' && typeof j.id === 'string' ? undefined : 'no Observation returned')), auth);
    case 'T':
      return rotating('T', 'POST /fhir transaction: Patient + 9 Observations (urn:uuid refs)', (n) => ({
        method: 'POST',
        path: '/fhir',
        body: JSON.stringify(transactionBundle(n)),
      }), expect((s) => s === 200, (j) => {
        const entries = (j.entry ?? []) as { response?: { status?: string } }[];
        if (j.type !== 'transaction-response' || entries.length !== 10) return 'not a 10-entry transaction-response';
        return entries.every((e) => e.response?.status?.startsWith('201')) ? undefined : 'an entry was not created';
      }), auth);
  }
}

/**
 * K: client_credentials token requests, each carrying a pre-signed assertion of its own (a new jti). Should the pool
 * run out, the last assertion is sent again: the server refuses the replay (401), the run fails, and `afterRun` says why.
 */
export function tokenScenario(pool: PresignedAssertions, alg: string): Scenario {
  let replayed = 0;
  const scenario = rotating('K', `POST ${TOKEN_PATH} client_credentials, private_key_jwt (${alg} assertion, a new jti per request)`, (n) => {
    if (n >= pool.bodies.length) replayed++;
    return { method: 'POST', path: TOKEN_PATH, body: pool.bodies[Math.min(n, pool.bodies.length - 1)]! };
  }, expect((s) => s === 200, (j) => (typeof j.access_token === 'string' && j.token_type === 'Bearer' ? undefined : 'no Bearer access_token in the response')),
  { bodyHeaders: FORM_HEADERS });
  scenario.afterRun = () => replayed === 0 ? undefined
    : `ran out of pre-signed assertions (${pool.bodies.length}, sized for ${pool.sizedForRate} req/s): ${replayed} requests replayed one; raise --k-rate`;
  return scenario;
}

/**
 * X: authorization_code token requests (public client, PKCE), each exchanging a code of its own once. Should the codes
 * run out, the last one is sent again: the server refuses the reused code (400 invalid_grant) and the run fails.
 */
export function codeExchangeScenario(codes: PreparedCodes): Scenario {
  let reused = 0;
  const scenario = rotating('X', `POST ${TOKEN_PATH} authorization_code + PKCE, public client (scope ${X_SCOPE}; a new code per request)`, (n) => {
    if (n >= codes.bodies.length) reused++;
    return { method: 'POST', path: TOKEN_PATH, body: codes.bodies[Math.min(n, codes.bodies.length - 1)]! };
  }, expect((s) => s === 200, (j) => {
    if (typeof j.access_token !== 'string' || j.token_type !== 'Bearer') return 'no Bearer access_token in the response';
    if (typeof j.refresh_token !== 'string') return 'no refresh_token (offline_access) in the response';
    if (typeof j.id_token !== 'string') return 'no id_token (openid) in the response';
    return typeof j.patient === 'string' ? undefined : 'no patient context in the response';
  }), { bodyHeaders: FORM_HEADERS });
  scenario.afterRun = () => reused === 0 ? undefined
    : `ran out of authorization codes (${codes.bodies.length}, sized for ${codes.sizedForRate} req/s): ${reused} requests reused one; raise --x-rate`;
  return scenario;
}

export function helloScenario(): Scenario {
  return rotating('hello-world', 'bare node:http hello world', () => ({ method: 'GET', path: '/' }),
    expect((s) => s === 200, () => undefined));
}

const AUDITED = ', each response after its AuditEvent is committed';

export function minimalReadScenario(patientIds: string[], audited: boolean): Scenario {
  const r = fhirScenario('R', patientIds);
  const name = audited ? 'minimal-read+audit' : 'minimal-read';
  return { ...r, name, description: `node:http + pg Pool(10), same SELECT as readCurrent${audited ? AUDITED : ''}, over ${patientIds.length} ids` };
}

export function minimalSearchScenario(patientIds: string[], audited: boolean): Scenario {
  const s = fhirScenario('S', patientIds);
  const name = audited ? 'minimal-search+audit' : 'minimal-search';
  return { ...s, name, description: `node:http running S's page statement${audited ? AUDITED : ''}, over ${patientIds.length} patients` };
}

/** The benchmark's own credentials were refused: everything measured after it would be 401s, so the run stops. */
export class UnauthorizedError extends Error {
  constructor(scenario: string, challenge: string | null, body: string) {
    super(`[${scenario}] preflight: HTTP 401, the benchmark's credentials were refused${challenge ? ` (WWW-Authenticate: ${challenge})` : ''}: ${body.slice(0, 300)}`);
    this.name = 'UnauthorizedError';
  }
}

/** Sends the scenario's next request once and checks the response; throws UnauthorizedError on a 401. */
export async function preflight(base: string, scenario: Scenario): Promise<string | undefined> {
  const { method, path, headers, body } = scenario.sample();
  let res: Response;
  let text: string;
  try {
    res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(30_000) });
    text = await res.text();
  } catch (err) {
    return (err as Error).message;
  }
  if (res.status === 401) throw new UnauthorizedError(scenario.name, res.headers.get('www-authenticate'), text);
  return scenario.check(res.status, text);
}
