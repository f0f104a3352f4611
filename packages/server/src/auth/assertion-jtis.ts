// The jtis of client assertions (RFC 7523 §3 item 7): each is accepted once per client while its assertion is valid,
// across instances, because the primary key of client_assertion_jtis decides. Recorded either by a batch of their
// own (`recordJtis`, client-assertion.ts) or, for an issued token, in the statement that commits the token's
// AuditEvent (audit/audit-log.ts), with the same rule: a jti is inserted only while its client's row is still the
// version the assertion was checked against, and active.
import type { Queryable } from '../store/database.ts';

/** One assertion's jti to record, if the client's row is still `version` and active. */
export interface JtiItem {
  clientId: string;
  jti: string;
  expiresAt: string;
  version: string;
}

/** recorded: accepted (first use); replay: the jti was used before; changed: the client row is not `version` or not active. */
export type JtiOutcome = 'recorded' | 'replay' | 'changed';

/** Joins the jti rows `alias` (client_id, version) to their clients when still at that version and active. */
const currentClient = (alias: string) =>
  `JOIN clients c ON c.client_id = ${alias}.client_id AND c.xmin = ${alias}.version::xid AND c.status = 'active'`;

/**
 * Common table expressions that record the jtis of `param` (the text of `jtiJson`) under the same rule as
 * `recordJtis`: `jti_in` holds them all, `jti_recorded` one row per jti inserted. A statement that needs every one
 * of them compares the two counts: a replay, a changed client, or the same client and jti twice leave `jti_recorded`
 * shorter.
 */
export function jtiInsertCtes(param: string): string {
  return `jti_in AS (
    SELECT * FROM jsonb_to_recordset(${param}::text::jsonb) AS j (client_id text, jti text, expires_at timestamptz, version text)),
  jti_recorded AS (
    INSERT INTO client_assertion_jtis (client_id, jti, expires_at)
    SELECT j.client_id, j.jti, j.expires_at FROM jti_in j ${currentClient('j')}
    ON CONFLICT DO NOTHING RETURNING 1)`;
}

export function jtiJson(items: readonly JtiItem[]): string {
  return JSON.stringify(items.map((j) => ({ client_id: j.clientId, jti: j.jti, expires_at: j.expiresAt, version: j.version })));
}

/**
 * Records a batch of jtis in one statement (one transaction) and returns each item's outcome, in order. An item is
 * inserted only if its client's row is still the version it was checked against and active ("changed" otherwise).
 * A jti already in the table, or inserted by another instance concurrently, is a replay: the primary key decides
 * (ON CONFLICT DO NOTHING inserts nothing, so it is not in RETURNING). The same client and jti twice in one batch:
 * only the first current one is inserted (DISTINCT ON, in arrival order) and the later ones are replays.
 *
 * The transaction commits without waiting for its WAL to reach the disk (`synchronous_commit` off, for this
 * transaction only). That is still durable before it matters: every response of an endpoint that authenticates a
 * client (token, introspection, revocation) waits for its AuditEvent's commit, which is synchronous and comes later
 * in the same WAL, so flushing it flushes this insert too (PostgreSQL writes and flushes WAL in order). No token
 * leaves before its assertion's jti is on disk; and when the audit commit fails, no token leaves at all. What it
 * saves is a disk flush per batch on the request's path.
 */
export async function recordJtis(q: Queryable, items: JtiItem[]): Promise<JtiOutcome[]> {
  const rows = await q.query<{ n: number; current: boolean; recorded: boolean }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[]) WITH ORDINALITY AS i (client_id, jti, expires_at, version, n)),
     current AS (
       SELECT i.* FROM input i ${currentClient('i')}),
     recorded AS (
       INSERT INTO client_assertion_jtis (client_id, jti, expires_at)
       SELECT DISTINCT ON (client_id, jti) client_id, jti, expires_at FROM current ORDER BY client_id, jti, n
       ON CONFLICT DO NOTHING RETURNING client_id, jti)
     SELECT i.n::int AS n, cur.n IS NOT NULL AS current,
            EXISTS (SELECT 1 FROM recorded r WHERE r.client_id = i.client_id AND r.jti = i.jti) AS recorded
       FROM input i LEFT JOIN current cur ON cur.n = i.n
            CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS this_transaction_only
      ORDER BY i.n`,
    [items.map((i) => i.clientId), items.map((i) => i.jti), items.map((i) => i.expiresAt), items.map((i) => i.version)],
  );
  if (rows.length !== items.length) throw new Error(`jti batch: ${rows.length} rows for ${items.length} items`);
  // A recorded (client, jti) belongs to the first current item with it; any later current item with it is a replay.
  const claimed = new Set<string>();
  return rows.map((row, i): JtiOutcome => {
    if (!row.current) return 'changed';
    const key = `${items[i]!.clientId}\u0000${items[i]!.jti}`;
    if (row.recorded && !claimed.has(key)) {
      claimed.add(key);
      return 'recorded';
    }
    return 'replay';
  });
}

