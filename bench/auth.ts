// Credentials for the benchmark. The FHIR scenarios send `Authorization: Bearer <token>`, a token minted here with
// the server's own signing keys (from the dataset's database) for the base URL the server child was started with.
// Scenario K registers a backend-service client and pre-signs its RFC 7523 client assertions, all before the load
// starts, in worker threads (one per core), so the timed run measures the token endpoint and nothing else.
// Scenario X creates its grants and authorization codes (with PKCE) in the database before the load starts, the
// way the authorize endpoint does when a user approves, and then exchanges each code once.
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createHash, createVerify, generateKeyPairSync, createSign, randomBytes } from 'node:crypto';
import { exportJWK } from 'jose';
import { openDatabase } from '../packages/server/src/store/database.ts';
import { KeyRing } from '../packages/server/src/auth/key-ring.ts';
import { issueAccessToken } from '../packages/server/src/auth/access-token.ts';
import { registerClient } from '../packages/server/src/auth/clients/client-store.ts';
import { createGrantWithCode } from '../packages/server/src/auth/grant-store.ts';
import { createUser } from '../packages/server/src/auth/users/user-store.ts';
import { newClientKey, type AssertionAlg } from '../packages/server/src/test-support/backend-client.ts';
import type { AuditActor } from '../packages/server/src/audit/audit-event.ts';
import type { SignJob } from './sign-assertions.ts';

/** The server's token path (auth/token-endpoint.ts `TOKEN_PATH`). */
export const TOKEN_PATH = '/auth/token';
export const BENCH_SCOPE = 'system/*.*';

async function withDatabase<T>(url: string, fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>, poolSize = 1): Promise<T> {
  const db = await openDatabase({ url, poolSize });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * An access token for `baseUrl` (issuer; audience `${baseUrl}/fhir`), signed with the active ES256 key in the
 * database at `dbUrl`. The server creates its keys when it starts, so call this once it is up.
 */
export async function mintAccessToken(dbUrl: string, baseUrl: string, lifetimeSeconds = 24 * 3600): Promise<string> {
  return withDatabase(dbUrl, async (db) => {
    const { token } = await issueAccessToken(new KeyRing(db), {
      issuer: baseUrl, audience: `${baseUrl}/fhir`, clientId: 'bench', subject: 'bench', scope: BENCH_SCOPE, lifetimeSeconds,
    });
    return token;
  });
}

/** The most patients R and S rotate over with patient-launch tokens (one token each, minted before the run). */
export const MAX_LAUNCH_TOKENS = 1000;

/** Who the patient-launch tokens act for: an app and a clinician (bench/servers/minimal-search.ts acts as them too). */
export const LAUNCH = { clientId: 'bench-app', subject: 'bench-clinician', scope: 'launch patient/*.rs', fhirUser: 'Practitioner/bench' } as const;

/** The token id the ceiling servers (bench/servers) record their requests under: they check no token. */
export const CEILING_TOKEN_ID = 'bench-ceiling';

/** The audit actor fhir-audit.ts records for a request with one of the launch tokens, as the ceiling servers record it. */
export const launchActor = (address: string | undefined): AuditActor => ({
  userId: LAUNCH.subject, fhirUser: LAUNCH.fhirUser, clientId: LAUNCH.clientId, tokenId: CEILING_TOKEN_ID, address,
});

/**
 * Patient-launch tokens, as an EHR launch gives an app: `patient/*.rs` with the patient in context, acting for a
 * clinician, one per patient (up to MAX_LAUNCH_TOKENS), so R and S run with full compartment enforcement.
 */
export async function mintPatientTokens(dbUrl: string, baseUrl: string, patientIds: readonly string[], lifetimeSeconds = 24 * 3600): Promise<Map<string, string>> {
  return withDatabase(dbUrl, async (db) => {
    const keys = new KeyRing(db);
    const tokens = new Map<string, string>();
    for (const patient of patientIds.slice(0, MAX_LAUNCH_TOKENS)) {
      const { token } = await issueAccessToken(keys, {
        issuer: baseUrl, audience: `${baseUrl}/fhir`, clientId: LAUNCH.clientId, subject: LAUNCH.subject, scope: LAUNCH.scope, lifetimeSeconds,
        context: { patient, fhirUser: `${baseUrl}/fhir/${LAUNCH.fhirUser}` },
      });
      tokens.set(patient, token);
    }
    return tokens;
  });
}

export interface PresignedAssertions {
  clientId: string;
  /** Complete form-encoded token request bodies, one per request, each with an assertion of its own (new jti). */
  bodies: string[];
  /** When the first assertion expires (ms since the epoch). */
  firstExpiry: number;
  signSeconds: number;
  /** The rate the pool was sized for (requests per second). */
  sizedForRate: number;
}

/** SMART Backend Services allows an assertion `exp` at most 5 minutes ahead; leave a margin for clock reading. */
const ASSERTION_LIFETIME_S = 290;
/** Pre-signed assertions must still be valid at the end of the run (they are signed before the warm-up). */
export const MAX_K_RUN_SECONDS = 240;

/**
 * Signature verifications per second of CPU time that one core of this machine manages for `alg` (node:crypto,
 * the same OpenSSL the server's WebCrypto uses; CPU time, so other processes do not lower it). The token endpoint
 * verifies one signature per request, so it cannot serve more than `cores ×` this.
 */
export function verifyRate(alg: AssertionAlg, millis = 300): number {
  const ec = alg.startsWith('ES');
  const { privateKey, publicKey } = ec
    ? generateKeyPairSync('ec', { namedCurve: alg === 'ES384' ? 'P-384' : 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const hash = alg.endsWith('384') ? 'sha384' : 'sha256';
  const data = Buffer.alloc(400, 'x');
  const sig = createSign(hash).update(data).sign(privateKey);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < millis) {
    createVerify(hash).update(data).verify(publicKey, sig);
    n++;
  }
  const used = process.cpuUsage(cpu);
  return (n * 1e6) / Math.max(1, used.user + used.system);
}

/**
 * Registers a backend-service client (key `alg`, scope system/*.*) in the database at `dbUrl` and signs `count`
 * client assertions for `tokenUrl` with it, spread over one worker thread per core.
 */
export async function presignAssertions(dbUrl: string, tokenUrl: string, alg: AssertionAlg, count: number, sizedForRate: number): Promise<PresignedAssertions> {
  const key = await newClientKey(alg, `bench-${alg}-${Date.now()}`);
  const clientId = await withDatabase(dbUrl, async (db) => (await registerClient(db, {
    name: `bench K ${alg}`, type: 'backend-service', jwks: { keys: [key.publicJwk] }, scopes: [BENCH_SCOPE],
  })).client.clientId);
  const started = performance.now();
  const exp = Math.floor(Date.now() / 1000) + ASSERTION_LIFETIME_S;
  const workers = Math.max(1, cpus().length);
  const per = Math.ceil(count / workers);
  const privateJwk = await exportJWK(key.privateKey);
  const parts = await Promise.all(Array.from({ length: workers }, (_, i) =>
    signInWorker({ privateJwk, alg, kid: key.kid, clientId, tokenUrl, scope: BENCH_SCOPE, exp, count: Math.max(0, Math.min(per, count - i * per)) })));
  return { clientId, bodies: parts.flat(), firstExpiry: exp * 1000, signSeconds: (performance.now() - started) / 1000, sizedForRate };
}

// tsx's loader is not inherited by worker threads on Node 20: the worker registers it, then loads the module.
const WORKER_SOURCE = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./sign-assertions.ts', import.meta.url).href)}); })`;

function signInWorker(job: SignJob): Promise<string[]> {
  if (job.count === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: job });
    worker.once('message', (bodies: string[]) => {
      resolve(bodies);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`assertion signer exited (code ${code}) before it finished`)));
  });
}

export interface PreparedCodes {
  clientId: string;
  /** Complete form-encoded authorization_code token request bodies, one per request, each with a code of its own. */
  bodies: string[];
  /** When the codes expire (ms since the epoch). */
  expiresAt: number;
  prepareSeconds: number;
  /** The rate the pool was sized for (requests per second). */
  sizedForRate: number;
}

/** What a SMART standalone patient launch typically asks for: patient context, OpenID identity, a refresh token. */
export const X_SCOPE = 'launch/patient openid fhirUser offline_access patient/*.rs';
const X_REDIRECT_URI = 'http://127.0.0.1:9/callback';

/**
 * Registers a public app and a clinician user in the database at `dbUrl` and creates `count` grants, each with its
 * authorization code and PKCE pair, with the server's own `createGrantWithCode` (as the authorize endpoint does
 * when the user approves): standalone launch scope `X_SCOPE`, a patient from `patientIds` in context, a nonce.
 * The codes then live `lifetimeSeconds` (see below). Returns one token request body per code.
 */
export async function prepareAuthorizationCodes(dbUrl: string, baseUrl: string, patientIds: string[], count: number, sizedForRate: number, lifetimeSeconds: number): Promise<PreparedCodes> {
  const started = performance.now();
  const connections = 8;
  return withDatabase(dbUrl, async (db) => {
    const stamp = Date.now();
    const { client } = await registerClient(db, {
      name: `bench X ${stamp}`, type: 'public', redirectUris: [X_REDIRECT_URI], scopes: X_SCOPE.split(' '), grantTypes: ['authorization_code', 'refresh_token'],
    });
    const user = await createUser(db, {
      username: `bench-x-${stamp}`, password: randomBytes(18).toString('base64url'), name: 'Bench Clinician', role: 'clinician', fhirUser: 'Practitioner/bench-x',
    });
    const bodies: string[] = new Array(count);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const verifier = randomBytes(32).toString('base64url'); // 43 characters (RFC 7636 §4.1)
        const patient = patientIds[i % patientIds.length]!;
        const code = await createGrantWithCode(db, {
          clientId: client.clientId, userId: user.id, scope: X_SCOPE, redirectUri: X_REDIRECT_URI, nonce: randomBytes(12).toString('base64url'),
          codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
          context: { patient, need_patient_banner: true, fhirUser: `${baseUrl}/fhir/${user.fhirUser}` },
        });
        bodies[i] = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: X_REDIRECT_URI, code_verifier: verifier, client_id: client.clientId }).toString();
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    // BENCHMARK ONLY: the server's codes live CODE_LIFETIME_S (60 s), fewer than it takes to create them all and run
    // the load, so the benchmark moves the expiry of *its own client's* codes later, directly in the table. The
    // server's rule is unchanged (createGrantWithCode still sets 60 s, and redeemCode checks expires_at as always).
    const [row] = await db.query<{ exp: number; n: number }>(
      `WITH moved AS (UPDATE authorization_codes SET expires_at = now() + make_interval(secs => $2) WHERE client_id = $1 AND used_at IS NULL RETURNING expires_at)
       SELECT extract(epoch FROM min(expires_at))::float8 * 1000 AS exp, count(*)::int AS n FROM moved`, [client.clientId, lifetimeSeconds]);
    if (row!.n !== count) throw new Error(`X: ${row!.n} codes found for ${count} created`);
    return { clientId: client.clientId, bodies, expiresAt: Number(row!.exp), prepareSeconds: (performance.now() - started) / 1000, sizedForRate };
  }, connections);
}
