// private_key_jwt client authentication (RFC 7523 §2.2 and §3; SMART App Launch 2.2, client-confidential-asymmetric
// and Backend Services): a JWT signed with one of the client's registered keys, for this token endpoint, used once.
//
// Clients are cached per database handle with their imported keys (importing a P-384 JWK costs as much as verifying
// a signature with it). The cache is never trusted on its own: the statement that records the assertion's jti only
// inserts when the client's row is still the version that was cached (its `xmin`) and active, so a suspension, a
// key change or a deletion made on any instance applies to the very next request, with no TTL window. When the row
// has changed, or a signature does not match the cached keys (a key was added), the client is read again.
//
// The jti inserts of concurrent requests are combined: a BatchWriter per database handle sends one multi-row
// statement for the assertions that arrive together, and each request still waits for the commit of its own row
// before it is answered. The outcome stays per assertion (recorded, replayed, or the client changed), and replays are
// still decided by the primary key of client_assertion_jtis, across instances. For client_credentials the token
// endpoint takes a cached client's jti instead (`deferJti`) and commits it in the statement of the issued token's
// AuditEvent (assertion-jtis.ts, audit/audit-log.ts), under the same rule.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';
import type { Queryable } from '../store/database.ts';
import { BatchWriter, type BatchWriterStats } from '../store/batch-writer.ts';
import { CLIENT_ASSERTION_ALGS } from './clients/client-registration.ts';
import { getClient, type Client } from './clients/client-store.ts';
import { OAuthError } from './oauth-errors.ts';
import { JwsRefused, prepareKeys, verifyJwsSignature, type PreparedKey } from './jws-verify.ts';
import { recordJtis, type JtiItem, type JtiOutcome } from './assertion-jtis.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** SMART Backend Services: `exp` no more than five minutes in the future. */
const MAX_ASSERTION_LIFETIME_SECONDS = 300;

const invalidClient = (description: string) => new OAuthError('invalid_client', description, 401);
/** RFC 7523 §3 item 7: the refusal of an assertion whose jti was used before. */
export const replayedAssertion = () => invalidClient('client_assertion jti has already been used');

/** The allowance for clock skew (exp, nbf); the jti of an assertion must be kept at least this long past its `exp`. */
const CLOCK_TOLERANCE_S = 5;
/**
 * Recorded jtis are deleted this long after their assertion's `exp`: more than the clock tolerance, so a replay is
 * refused until the assertion itself is too old, with room for clocks of other instances that run behind.
 */
const JTI_RETENTION_AFTER_EXP_MS = 60_000;
/** How often one instance deletes expired jtis (outside that, requests do not touch old rows). */
const JTI_CLEANUP_INTERVAL_MS = 10_000;
/** Cached clients are re-read at least this often (they are also checked against the database on every use). */
const CLIENT_CACHE_TTL_MS = 60_000;
const CLIENT_CACHE_LIMIT = 1_000;
/** Longer jtis are refused (a btree index entry holds at most about 2.7 kB; a UUID is 36 bytes). */
const MAX_JTI_BYTES = 2048;

// Remote key sets are cached by jose per URL (a miss refetches, so the cache is safe on every instance).
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function keySet(client: Client): JWTVerifyGetKey {
  if (client.jwks) return createLocalJWKSet(client.jwks as never);
  let remote = remoteKeySets.get(client.jwksUri!);
  if (!remote) remoteKeySets.set(client.jwksUri!, (remote = createRemoteJWKSet(new URL(client.jwksUri!), { timeoutDuration: 5000 })));
  return remote;
}

interface CachedClient {
  client: Client;
  /** The row version (`xmin`) the client was read at. */
  version: string;
  /** The key set for jose, and the registered keys imported for node:crypto (none for a `jwks_uri`): jws-verify.ts. */
  getKey: JWTVerifyGetKey;
  prepared?: PreparedKey[];
  loadedAt: number;
}

/**
 * Batching of the jti inserts: a batch leaves at the next turn of the event loop (so it holds the assertions whose
 * signatures were verified in this turn) and, while one batch is being written, the next one collects (one in flight:
 * measured with scenario K, two in flight made 1.6 times as many commits for no gain); 200 rows at most per statement.
 */
const JTI_BATCH = { maxItems: 200, maxDelayMs: 0, maxConcurrent: 1 };

interface PerDatabase {
  clients: Map<string, CachedClient>;
  lastCleanup: number;
  jtis: BatchWriter<JtiItem, JtiOutcome>;
}

const perDatabase = new WeakMap<Queryable, PerDatabase>();

function stateOf(q: Queryable): PerDatabase {
  let state = perDatabase.get(q);
  if (!state) perDatabase.set(q, (state = { clients: new Map(), lastCleanup: 0, jtis: new BatchWriter({ ...JTI_BATCH, write: (items) => recordJtis(q, items) }) }));
  return state;
}

/** How the jti inserts on `q` were batched so far (undefined before the first assertion). */
export function jtiBatchStats(q: Queryable): BatchWriterStats | undefined {
  return perDatabase.get(q)?.jtis.stats;
}

/**
 * The client as stored now, with its row version. The version is read first: should the row change between the two
 * reads, the client is newer than its version, and the conditional jti insert refuses it (then it is read again).
 */
async function loadClient(q: Queryable, clientId: string): Promise<{ client: Client; version: string } | undefined> {
  const [row] = await q.query<{ version: string }>('SELECT xmin::text AS version FROM clients WHERE client_id = $1', [clientId]);
  if (!row) return undefined;
  const client = await getClient(q, clientId);
  return client && { client, version: row.version };
}

export interface AssertionContext {
  /** The token endpoint URL: the assertion's required `aud`. */
  tokenEndpoint: string;
  now?: Date;
}

/** The client an assertion authenticated, and its jti when the caller records it (`deferJti`). */
export interface AssertedClient {
  client: Client;
  /** Not recorded yet: the caller commits it with its AuditEvent (audit-log.ts), or the assertion may be replayed. */
  pendingJti?: JtiItem;
}

/**
 * Verifies a client assertion and returns the authenticated client; throws invalid_client (401) otherwise.
 *
 * With `deferJti`, a client found in the cache has its jti returned instead of recorded: the token endpoint commits
 * it in the statement that commits the issued token's AuditEvent, one round trip where there were two. That
 * statement applies the same rule (assertion-jtis.ts), so a replay or a changed client is still refused there.
 */
export async function authenticateWithAssertion(q: Queryable, assertionType: string | undefined, assertion: string | undefined, ctx: AssertionContext & { deferJti?: boolean }): Promise<AssertedClient> {
  if (assertionType !== JWT_BEARER_ASSERTION) throw invalidClient(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  if (!assertion) throw invalidClient('client_assertion is missing');
  let clientId: string;
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload; // decoded only: trusted once the signature is verified
  try {
    header = decodeProtectedHeader(assertion);
    if (!CLIENT_ASSERTION_ALGS.includes(String(header.alg))) throw invalidClient(`client_assertion alg ${String(header.alg)} is not accepted (${CLIENT_ASSERTION_ALGS.join(', ')})`);
    claims = decodeJwt(assertion);
    if (!claims.iss || claims.iss !== claims.sub) throw invalidClient('client_assertion iss and sub must both be the client_id');
    clientId = claims.iss;
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalidClient('client_assertion is not a JWT');
  }
  const now = ctx.now ?? new Date();
  const state = stateOf(q);
  await removeExpiredJtis(q, state, now);

  // The cached client, when there is one: one round trip (the conditional jti insert) and no key import.
  const cached = state.clients.get(clientId);
  if (cached && now.getTime() - cached.loadedAt < CLIENT_CACHE_TTL_MS) {
    const payload = await verify(assertion, header, claims, cached, ctx.tokenEndpoint, now); // undefined: keys changed? read again
    if (payload && ctx.deferJti) return { client: cached.client, pendingJti: jtiItem(cached, payload) };
    if (payload && (await rememberJti(state, cached, payload))) return { client: cached.client };
  }
  state.clients.delete(clientId);

  // Read the client; at most twice, should it change between the read and the jti insert.
  for (let attempt = 0; attempt < 2; attempt++) {
    const loaded = await loadClient(q, clientId);
    if (!loaded || loaded.client.authMethod !== 'private_key_jwt') throw invalidClient('unknown client, or not registered for private_key_jwt');
    if (loaded.client.status !== 'active') throw invalidClient(`client is ${loaded.client.status}`);
    const entry: CachedClient = {
      ...loaded, getKey: keySet(loaded.client), loadedAt: now.getTime(),
      ...(loaded.client.jwks ? { prepared: prepareKeys(loaded.client.jwks as { keys: [] }) } : {}),
    };
    const payload = await verify(assertion, header, claims, entry, ctx.tokenEndpoint, now);
    if (!payload) throw invalidClient('client_assertion signature does not match a registered key');
    if (await rememberJti(state, entry, payload)) {
      if (state.clients.size >= CLIENT_CACHE_LIMIT) state.clients.clear();
      state.clients.set(clientId, entry);
      return { client: entry.client };
    }
  }
  throw invalidClient('the client registration changed while the assertion was checked; try again');
}

/**
 * The assertion's claims once its signature is one of the client's keys' (undefined when it matches none of them);
 * throws invalid_client for anything else wrong with it.
 */
async function verify(assertion: string, header: ProtectedHeaderParameters, claims: JWTPayload, entry: CachedClient, audience: string, now: Date): Promise<JWTPayload | undefined> {
  // SMART Backend Services: a `jku` header is honoured only if it is the JWKS URL registered for the client.
  const { jku } = header;
  if (jku !== undefined && jku !== entry.client.jwksUri) throw invalidClient('client_assertion jku is not the JWKS URL registered for this client');
  let signed: boolean;
  try {
    signed = await verifyJwsSignature(assertion, header, CLIENT_ASSERTION_ALGS, entry);
  } catch (err) {
    throw invalidClient(assertionFailure(err));
  }
  return signed ? checkClaims(claims, entry.client.clientId, audience, now) : undefined;
}

/** RFC 7523 §3 and SMART Backend Services: who issued the assertion, for whom, until when, and its jti. */
function checkClaims(payload: JWTPayload, clientId: string, audience: string, now: Date): JWTPayload {
  const claim = (name: string, why: string) => invalidClient(`client_assertion claim ${name} is invalid (${why})`);
  const t = now.getTime() / 1000;
  if (payload.iss !== clientId) throw claim('iss', 'not the client_id');
  if (payload.sub !== clientId) throw claim('sub', 'not the client_id');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(audience)) throw claim('aud', 'not this token endpoint');
  if (typeof payload.exp !== 'number') throw claim('exp', 'missing or not a number');
  if (payload.exp <= t - CLOCK_TOLERANCE_S) throw invalidClient('client_assertion has expired');
  if (payload.exp - t > MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_TOLERANCE_S) throw invalidClient('client_assertion exp is more than five minutes in the future');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > t + CLOCK_TOLERANCE_S)) throw claim('nbf', 'not yet valid');
  if (payload.iat !== undefined && typeof payload.iat !== 'number') throw claim('iat', 'not a number');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw claim('jti', 'missing or not a string');
  return payload;
}

function assertionFailure(err: unknown): string {
  if (err instanceof OAuthError) return err.description;
  if (err instanceof JwsRefused) return `client_assertion ${err.message}`;
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JOSEError) return `client_assertion could not be verified (${err.code})`;
  return 'client_assertion could not be verified';
}

/**
 * Records a jti that `authenticateWithAssertion` returned pending, on its own: for a request refused before its token
 * was issued, whose refusal must not rest on a cached client that changed ('changed': read it again).
 */
export function recordPendingJti(q: Queryable, item: JtiItem): Promise<JtiOutcome> {
  return stateOf(q).jtis.add(item);
}

/** The assertion's jti, to record while the client's row is still the version `entry` was read at. */
function jtiItem(entry: CachedClient, payload: JWTPayload): JtiItem {
  const jti = String(payload.jti);
  // A value PostgreSQL cannot store or index would fail the whole batch it travels in: refused here, for this request only.
  if (jti.includes('\u0000') || Buffer.byteLength(jti) > MAX_JTI_BYTES) throw invalidClient(`client_assertion jti must be at most ${MAX_JTI_BYTES} bytes of text`);
  return { clientId: entry.client.clientId, jti, expiresAt: new Date(payload.exp! * 1000).toISOString(), version: entry.version };
}

/**
 * RFC 7523 §3 item 7: a jti is accepted once per client while the assertion is valid. The jti is recorded only if
 * the client's row is still the version `entry` was read at, and active: true when recorded, false when the client
 * changed (read it again); throws when the jti was recorded before (on any instance: the primary key decides).
 */
async function rememberJti(state: PerDatabase, entry: CachedClient, payload: JWTPayload): Promise<boolean> {
  const outcome = await state.jtis.add(jtiItem(entry, payload));
  if (outcome === 'recorded') return true;
  if (outcome === 'replay') throw replayedAssertion();
  return false;
}

/** Deletes jtis whose assertions can no longer be accepted; at most every JTI_CLEANUP_INTERVAL_MS per instance. */
async function removeExpiredJtis(q: Queryable, state: PerDatabase, now: Date): Promise<void> {
  if (Math.abs(now.getTime() - state.lastCleanup) < JTI_CLEANUP_INTERVAL_MS) return;
  state.lastCleanup = now.getTime();
  await q.query('DELETE FROM client_assertion_jtis WHERE expires_at < $1::timestamptz', [new Date(now.getTime() - JTI_RETENTION_AFTER_EXP_MS).toISOString()]);
}
