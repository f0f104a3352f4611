// Versioned resource persistence: the current row, the version history and the search index rows,
// all written by one SQL statement so that a resource and its indexes can never disagree.
import type { Queryable } from './database.ts';
import type { IndexRows } from '../fhir/index-extract.ts';

export interface StoredVersion {
  rid: string;
  type: string;
  id: string;
  version: number;
  lastUpdated: string; // ISO-8601
  deleted: boolean;
  /** The resource as served (JSON text); null for a deleted version. */
  json: string | null;
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
  /**
   * Relative references that must name existing, non-deleted resources: checked inside the same statement,
   * which then writes nothing when one is missing (writeVersion returns undefined).
   */
  references?: { type: string; id: string }[];
}

const CURRENT_COLUMNS = `rid::text AS rid, type, id, version, to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastUpdated", deleted`;

type Row = Omit<StoredVersion, 'json'> & { json: string | null };

/** The current version of a resource (possibly a tombstone), or undefined if it never existed. */
export async function readCurrent(q: Queryable, type: string, id: string): Promise<StoredVersion | undefined> {
  const rows = await q.query<Row>(
    `SELECT ${CURRENT_COLUMNS}, CASE WHEN deleted THEN NULL ELSE resource::text END AS json FROM resources WHERE type = $1 AND id = $2`,
    [type, id],
  );
  return rows[0];
}

/**
 * Locks the (type, id) pair for the rest of the transaction and returns its current version.
 * The advisory lock also serialises concurrent creates of the same id (create-on-update). The read is a separate
 * statement so that, under READ COMMITTED, its snapshot is taken after the lock is granted.
 */
export async function lockCurrent(tx: Queryable, type: string, id: string): Promise<StoredVersion | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${type}/${id}`]);
  return readCurrent(tx, type, id);
}

/**
 * Serialises conditional writes (create/update by search criteria) on one resource type across instances, until
 * the transaction ends, so two of them cannot both find nothing and both create. Re-entrant within a transaction.
 */
export async function lockTypeForConditionalWrite(tx: Queryable, type: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 1))', [type]);
}

export async function readVersion(q: Queryable, type: string, id: string, version: number): Promise<StoredVersion | undefined> {
  const rows = await q.query<Row>(
    `SELECT ${CURRENT_COLUMNS.replace('deleted', `(method = 'DELETE') AS deleted`)}, resource::text AS json
       FROM resource_versions WHERE type = $1 AND id = $2 AND version = $3`,
    [type, id, version],
  );
  return rows[0];
}

export interface HistoryQuery {
  type?: string;
  /** Only these types (the types a principal may see, for system history). */
  types?: string[];
  id?: string;
  /** ISO instant: only versions at or after it (`_since`). */
  since?: string;
  /** Only versions committed before this sequence number (the paging cursor). */
  beforeSeq?: string;
  limit: number;
}

/** Versions newest first, for instance, type and system history. */
export async function readHistory(q: Queryable, h: HistoryQuery): Promise<HistoryEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (h.type) add('type = ?', h.type);
  if (h.types) add('type = ANY(?::text[])', h.types);
  if (h.id) add('id = ?', h.id);
  if (h.since) add('last_updated >= ?::timestamptz', h.since);
  if (h.beforeSeq) add('seq < ?::bigint', h.beforeSeq);
  params.push(h.limit);
  return q.query<HistoryEntry>(
    `SELECT seq::text AS seq, method, ${CURRENT_COLUMNS.replace('deleted', `(method = 'DELETE') AS deleted`)}, resource::text AS json
       FROM resource_versions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
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
    w.type, w.id, w.version, w.lastUpdated, deleted, currentBody, ix.compartments, w.method, w.json,
    ix.token.map((r) => r.p), ix.token.map((r) => r.system), ix.token.map((r) => r.code), ix.token.map((r) => r.text),
    ix.string.map((r) => r.p), ix.string.map((r) => r.norm), ix.string.map((r) => r.exact),
    ix.reference.map((r) => r.p), ix.reference.map((r) => r.targetType), ix.reference.map((r) => r.targetId), ix.reference.map((r) => r.url),
    ix.date.map((r) => r.p), ix.date.map((r) => r.lo), ix.date.map((r) => r.hi),
    ix.number.map((r) => r.p), ix.number.map((r) => r.value),
    ix.quantity.map((r) => r.p), ix.quantity.map((r) => r.value), ix.quantity.map((r) => r.system), ix.quantity.map((r) => r.code), ix.quantity.map((r) => r.unit),
    ix.uri.map((r) => r.p), ix.uri.map((r) => r.value),
    (w.references ?? []).map((r) => r.type), (w.references ?? []).map((r) => r.id),
  ];
  const rows = await q.query<{ rid: string }>(w.replaces ? UPDATE_SQL : INSERT_SQL, params);
  return rows[0]?.rid;
}

/** True when every reference in $33/$34 names a current resource. */
const REFERENCES_EXIST = `NOT EXISTS (
    SELECT 1 FROM unnest($33::text[], $34::text[]) AS ref(type, id)
     WHERE NOT EXISTS (SELECT 1 FROM resources t WHERE t.type = ref.type AND t.id = ref.id AND NOT t.deleted))`;

const EMPTY_INDEX: IndexRows = { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], compartments: [] };

const INDEX_TABLES = ['sp_token', 'sp_string', 'sp_reference', 'sp_date', 'sp_number', 'sp_quantity', 'sp_uri'];

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
  ver AS (INSERT INTO resource_versions (rid, type, id, version, last_updated, method, resource)
    SELECT cur.rid, $1, $2, $3, $4::timestamptz, $8, $9::jsonb FROM cur)
  SELECT rid::text AS rid FROM cur`;

const INSERT_SQL = `
  WITH cur AS (INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments)
    SELECT $1, $2, $3, $4::timestamptz, $5, $6::jsonb, $7::text[] WHERE ${REFERENCES_EXIST} RETURNING rid),
  ${INDEX_INSERTS}`;

// Data-modifying CTEs share one snapshot: the deletes remove the old index rows, not the ones inserted here.
const UPDATE_SQL = `
  WITH cur AS (UPDATE resources SET version = $3, last_updated = $4::timestamptz, deleted = $5, resource = $6::jsonb, compartments = $7::text[]
    WHERE type = $1 AND id = $2 AND ${REFERENCES_EXIST} RETURNING rid),
  ${INDEX_TABLES.map((t) => `d_${t} AS (DELETE FROM ${t} WHERE rid = (SELECT rid FROM cur))`).join(',\n  ')},
  ${INDEX_INSERTS}`;
