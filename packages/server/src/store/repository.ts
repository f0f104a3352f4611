// Versioned resource persistence: the current row, the version history and the search index rows,
// all written by one SQL statement so that a resource and its indexes can never disagree.
import type { Queryable } from './database.ts';
import { batchedRead } from './statement-batcher.ts';
import type { IndexRows } from '../fhir/index-extract.ts';
import type { DenyRule } from '../access/consent-rules.ts';
import { and, raw, sql, TRUE, type Sql } from '../fhir/search/sql.ts';
import { tokenKeys } from '../fhir/search/row-keys.ts';

export interface StoredVersion {
  rid: string;
  type: string;
  id: string;
  version: number;
  lastUpdated: string; // ISO-8601
  deleted: boolean;
  /** The resource as served (JSON text); null for a deleted version. */
  json: string | null;
  /** The Patient compartments of the current version, e.g. ['Patient/123'] (a tombstone keeps its last ones). */
  compartments: string[];
}

export interface HistoryEntry extends StoredVersion {
  seq: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
}

export interface WriteVersion {
  type: string;
  id: string;
  version: number;
  lastUpdated: string;
  method: HistoryEntry['method'];
  /** The resource as it will be served, or null for a delete. */
  json: string | null;
  index: IndexRows | null;
  /** True when a current row exists already (its index rows are replaced). */
  replaces: boolean;
  /** For a tombstone: the compartments it keeps, so access rules still place it. */
  compartments?: string[];
  /** A privacy Consent's deny rules (access/consent-rules.ts), replaced like index rows. */
  denials?: DenyRule[];
  /**
   * Relative references that must name existing, non-deleted resources: checked inside the same statement,
   * which then writes nothing when one is missing (writeVersion returns undefined).
   */
  references?: { type: string; id: string }[];
}

/** The columns of a StoredVersion from the `resources` row `r` (`deleted` given by the caller). */
const columns = (a: string, deleted: string) => raw(`${a}.rid::text AS rid, ${a}.type, ${a}.id, ${a}.version,
  to_char(${a}.last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastUpdated", ${deleted} AS deleted`);

/** A version as read for a principal: `visible` is the access filter's verdict on it. */
export type VisibleVersion = StoredVersion & { visible: boolean };

/**
 * The current version of a resource (possibly a tombstone), or undefined if it never existed. `visible` is a
 * predicate over the row alias `r` (the access filter): the row comes back either way, with its verdict. Outside a
 * transaction it goes with the other reads of the same turn (statement-batcher.ts).
 */
export async function readCurrent(q: Queryable, type: string, id: string, visible: Sql = TRUE): Promise<VisibleVersion | undefined> {
  return (await batchedRead<VisibleVersion>(q, sql`SELECT ${columns('r', 'r.deleted')}, r.compartments,
      CASE WHEN r.deleted THEN NULL ELSE r.resource::text END AS json, ${visible} AS visible
    FROM resources r WHERE r.type = ${type} AND r.id = ${id}`))[0];
}

/**
 * Locks the (type, id) pair for the rest of the transaction and returns its current version.
 * The advisory lock also serialises concurrent creates of the same id (create-on-update). The read is a separate
 * statement so that, under READ COMMITTED, its snapshot is taken after the lock is granted.
 */
export async function lockCurrent(tx: Queryable, type: string, id: string, visible: Sql = TRUE): Promise<VisibleVersion | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${type}/${id}`]);
  return readCurrent(tx, type, id, visible);
}

/**
 * Serialises conditional writes (create/update by search criteria) on one resource type across instances, until
 * the transaction ends, so two of them cannot both find nothing and both create. Re-entrant within a transaction.
 */
export async function lockTypeForConditionalWrite(tx: Queryable, type: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [type]);
}

/** One version; `visible` is judged on the resource's current row `r` (its compartments, index rows and type). */
export async function readVersion(q: Queryable, type: string, id: string, version: number, visible: Sql = TRUE): Promise<VisibleVersion | undefined> {
  const { text, params } = sql`SELECT ${columns('v', `(v.method = 'DELETE')`)}, r.compartments, v.resource::text AS json, ${visible} AS visible
    FROM resource_versions v JOIN resources r ON r.rid = v.rid
    WHERE v.type = ${type} AND v.id = ${id} AND v.version = ${version}`.render();
  return (await q.query<VisibleVersion>(text, params))[0];
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** The access filter over the resource's current row `r`: versions of resources the principal may not see are left out. */
  visible?: Sql;
  /** ISO instant: only versions at or after it (`_since`). */
  since?: string;
  /** Only versions committed before this sequence number (the paging cursor). */
  beforeSeq?: string;
  limit: number;
}

/** Versions newest first, for instance, type and system history. */
export async function readHistory(q: Queryable, h: HistoryQuery): Promise<HistoryEntry[]> {
  const where = [
    h.type ? sql`v.type = ${h.type}` : TRUE,
    h.id ? sql`v.id = ${h.id}` : TRUE,
    h.since ? sql`v.last_updated >= ${h.since}::timestamptz` : TRUE,
    h.beforeSeq ? sql`v.seq < ${h.beforeSeq}::bigint` : TRUE,
    h.visible ?? TRUE,
  ];
  const { text, params } = sql`SELECT v.seq::text AS seq, v.method, ${columns('v', `(v.method = 'DELETE')`)}, r.compartments, v.resource::text AS json
    FROM resource_versions v JOIN resources r ON r.rid = v.rid
    WHERE ${and(...where)} ORDER BY v.seq DESC LIMIT ${h.limit}`.render();
  return q.query<HistoryEntry>(text, params);
}

/**
 * Writes one version: upserts the current row, appends the history row and replaces the index rows,
 * in a single statement (one round trip). Returns the resource's rid, or undefined when a required
 * reference is missing (and nothing was written).
 */
export async function writeVersion(q: Queryable, w: WriteVersion): Promise<string | undefined> {
  const ix = w.index ?? EMPTY_INDEX;
  const deleted = w.json === null;
  const currentBody = w.json ?? JSON.stringify({ resourceType: w.type, id: w.id, meta: { versionId: String(w.version), lastUpdated: w.lastUpdated } });
  const params: unknown[] = [
    w.type, w.id, w.version, w.lastUpdated, deleted, currentBody, w.compartments ?? ix.compartments, w.method, w.json,
    ix.token.map((r) => r.p), ix.token.map((r) => r.system), ix.token.map((r) => r.code), ix.token.map((r) => r.text),
    ix.string.map((r) => r.p), ix.string.map((r) => r.norm), ix.string.map((r) => r.exact),
    ix.reference.map((r) => r.p), ix.reference.map((r) => r.targetType), ix.reference.map((r) => r.targetId), ix.reference.map((r) => r.url),
    ix.date.map((r) => r.p), ix.date.map((r) => r.lo), ix.date.map((r) => r.hi),
    ix.number.map((r) => r.p), ix.number.map((r) => r.value),
    ix.quantity.map((r) => r.p), ix.quantity.map((r) => r.value), ix.quantity.map((r) => r.system), ix.quantity.map((r) => r.code), ix.quantity.map((r) => r.unit),
    ix.uri.map((r) => r.p), ix.uri.map((r) => r.value),
    (w.references ?? []).map((r) => r.type), (w.references ?? []).map((r) => r.id),
    ...denialColumns(w.denials ?? []),
    tokenKeys(ix.token),
  ];
  const rows = await q.query<{ rid: string }>(w.replaces ? UPDATE_SQL : INSERT_SQL, params);
  return rows[0]?.rid;
}

/** True when every reference in $33/$34 names a current resource. */
const REFERENCES_EXIST = `NOT EXISTS (
    SELECT 1 FROM unnest($33::text[], $34::text[]) AS ref(type, id)
     WHERE NOT EXISTS (SELECT 1 FROM resources t WHERE t.type = ref.type AND t.id = ref.id AND NOT t.deleted))`;

const EMPTY_INDEX: IndexRows = { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], compartments: [] };

/** The tables of rows derived from a resource's current version, keyed by its rid (replaced with every write). */
export const INDEX_TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri', 'consent_denials'];

const denialColumns = (d: DenyRule[]) => [
  d.map((r) => r.patient), d.map((r) => r.clientId), d.map((r) => r.resourceType), d.map((r) => r.labelSystem), d.map((r) => r.labelCode),
  d.map((r) => r.lo), d.map((r) => r.hi),
];

const INDEX_INSERTS = `
  i_token AS (INSERT INTO sp_token (rid, p, system, code, text)
    SELECT cur.rid, u.* FROM cur, unnest($10::text[], $11::text[], $12::text[], $13::text[]) AS u),
  i_string AS (INSERT INTO sp_string (rid, p, norm, exact)
    SELECT cur.rid, u.* FROM cur, unnest($14::text[], $15::text[], $16::text[]) AS u),
  i_reference AS (INSERT INTO sp_reference (rid, p, target_type, target_id, url)
    SELECT cur.rid, u.* FROM cur, unnest($17::text[], $18::text[], $19::text[], $20::text[]) AS u),
  i_date AS (INSERT INTO sp_date (rid, p, lo, hi)
    SELECT cur.rid, u.p, u.lo::timestamptz, u.hi::timestamptz FROM cur, unnest($21::text[], $22::text[], $23::text[]) AS u(p, lo, hi)),
  i_number AS (INSERT INTO sp_number (rid, p, value)
    SELECT cur.rid, u.p, u.v::numeric FROM cur, unnest($24::text[], $25::text[]) AS u(p, v)),
  i_quantity AS (INSERT INTO sp_quantity (rid, p, value, system, code, unit)
    SELECT cur.rid, u.p, u.v::numeric, u.s, u.c, u.un FROM cur, unnest($26::text[], $27::text[], $28::text[], $29::text[], $30::text[]) AS u(p, v, s, c, un)),
  i_uri AS (INSERT INTO sp_uri (rid, p, value)
    SELECT cur.rid, u.* FROM cur, unnest($31::text[], $32::text[]) AS u),
  i_denial AS (INSERT INTO consent_denials (rid, patient, client_id, resource_type, label_system, label_code, lo, hi)
    SELECT cur.rid, u.pa, u.c, u.t, u.ls, u.lc, u.lo::timestamptz, u.hi::timestamptz
      FROM cur, unnest($35::text[], $36::text[], $37::text[], $38::text[], $39::text[], $40::text[], $41::text[]) AS u(pa, c, t, ls, lc, lo, hi)),
  ver AS (INSERT INTO resource_versions (rid, type, id, version, last_updated, method, resource)
    SELECT cur.rid, $1, $2, $3, $4::timestamptz, $8, $9::json FROM cur)
  SELECT rid::text AS rid FROM cur`;

// The row keys (migration 018, fhir/search/row-keys.ts): $42 the token keys; the date keys from the date rows' values.
const DATE_KEYS = `(SELECT jsonb_object_agg(d.p, jsonb_build_array(d.lo, d.hi))
    FROM (SELECT u.p, min(u.lo::timestamptz) AS lo, max(u.hi::timestamptz) AS hi FROM unnest($21::text[], $22::text[], $23::text[]) AS u(p, lo, hi) GROUP BY u.p) AS d)`;

const INSERT_SQL = `
  WITH cur AS (INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments, token_keys, date_keys)
    SELECT $1, $2, $3, $4::timestamptz, $5, $6::json, $7::text[], $42::text[], ${DATE_KEYS} WHERE ${REFERENCES_EXIST} RETURNING rid),
  ${INDEX_INSERTS}`;

// Data-modifying CTEs share one snapshot: the deletes remove the old index rows, not the ones inserted here.
const UPDATE_SQL = `
  WITH cur AS (UPDATE resources SET version = $3, last_updated = $4::timestamptz, deleted = $5, resource = $6::json, compartments = $7::text[],
      token_keys = $42::text[], date_keys = ${DATE_KEYS}
    WHERE type = $1 AND id = $2 AND ${REFERENCES_EXIST} RETURNING rid),
  ${INDEX_TABLES.map((t) => `d_${t} AS (DELETE FROM ${t} WHERE rid = (SELECT rid FROM cur))`).join(',\n  ')},
  ${INDEX_INSERTS}`;
