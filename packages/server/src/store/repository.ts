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
  const refs = w.references ?? [];
  const params: unknown[] = [
    w.type, w.id, w.version, w.lastUpdated, deleted, currentBody, ix.compartments, w.method, w.json,
    refs.map((r) => r.type), refs.map((r) => r.id),
  ];
  // Only the index tables that get rows appear in the statement: an INSERT into a table opens all of its indexes
  // even for zero rows. The statement text depends only on which tables are used, so it stays a prepared statement.
  const used = INDEX_TABLES.filter((t) => ix[t.rows].length > 0);
  for (const t of used) params.push(...t.columns.map((c) => ix[t.rows].map((row) => (row as unknown as Record<string, unknown>)[c])));
  const rows = await q.query<{ rid: string }>(writeSql(w.replaces, used), params);
  return rows[0]?.rid;
}

const EMPTY_INDEX: IndexRows = { token: [], string: [], reference: [], date: [], number: [], quantity: [], uri: [], compartments: [] };

interface IndexTable {
  table: string;
  rows: Exclude<keyof IndexRows, 'compartments'>;
  /** Property names of the extracted rows, in column order. */
  columns: string[];
  /** SQL column names and the cast of each value. */
  sqlColumns: string[];
  casts: string[];
}

const INDEX_TABLES: IndexTable[] = [
  { table: 'sp_token', rows: 'token', columns: ['p', 'system', 'code', 'text'], sqlColumns: ['p', 'system', 'code', 'text'], casts: ['', '', '', ''] },
  { table: 'sp_string', rows: 'string', columns: ['p', 'norm', 'exact'], sqlColumns: ['p', 'norm', 'exact'], casts: ['', '', ''] },
  { table: 'sp_reference', rows: 'reference', columns: ['p', 'targetType', 'targetId', 'url'], sqlColumns: ['p', 'target_type', 'target_id', 'url'], casts: ['', '', '', ''] },
  { table: 'sp_date', rows: 'date', columns: ['p', 'lo', 'hi'], sqlColumns: ['p', 'lo', 'hi'], casts: ['', '::timestamptz', '::timestamptz'] },
  { table: 'sp_number', rows: 'number', columns: ['p', 'value'], sqlColumns: ['p', 'value'], casts: ['', '::numeric'] },
  { table: 'sp_quantity', rows: 'quantity', columns: ['p', 'value', 'system', 'code', 'unit'], sqlColumns: ['p', 'value', 'system', 'code', 'unit'], casts: ['', '::numeric', '', '', ''] },
  { table: 'sp_uri', rows: 'uri', columns: ['p', 'value'], sqlColumns: ['p', 'value'], casts: ['', ''] },
];

/** True when every reference in $10/$11 names a current resource. */
const REFERENCES_EXIST = `NOT EXISTS (
    SELECT 1 FROM unnest($10::text[], $11::text[]) AS ref(type, id)
     WHERE NOT EXISTS (SELECT 1 FROM resources t WHERE t.type = ref.type AND t.id = ref.id AND NOT t.deleted))`;

const writeSqlCache = new Map<string, string>();

function writeSql(replaces: boolean, used: IndexTable[]): string {
  const cacheKey = `${replaces}:${used.map((t) => t.table).join(',')}`;
  let text = writeSqlCache.get(cacheKey);
  if (text) return text;
  let n = 11;
  const inserts = used.map((t) => {
    const args = t.columns.map(() => `$${++n}::text[]`);
    const values = t.sqlColumns.map((c, i) => `u.c${i}${t.casts[i]}`);
    return `i_${t.table} AS (INSERT INTO ${t.table} (rid, ${t.sqlColumns.join(', ')})
    SELECT cur.rid, ${values.join(', ')} FROM cur, unnest(${args.join(', ')}) AS u(${t.columns.map((_, i) => `c${i}`).join(', ')}))`;
  });
  // Data-modifying CTEs share one snapshot: the deletes remove the old index rows, not the ones inserted here.
  const deletes = replaces ? INDEX_TABLES.map((t) => `d_${t.table} AS (DELETE FROM ${t.table} WHERE rid = (SELECT rid FROM cur))`) : [];
  const cur = replaces
    ? `cur AS (UPDATE resources SET version = $3, last_updated = $4::timestamptz, deleted = $5, resource = $6::jsonb, compartments = $7::text[]
    WHERE type = $1 AND id = $2 AND ${REFERENCES_EXIST} RETURNING rid)`
    : `cur AS (INSERT INTO resources (type, id, version, last_updated, deleted, resource, compartments)
    SELECT $1, $2, $3, $4::timestamptz, $5, $6::jsonb, $7::text[] WHERE ${REFERENCES_EXIST} RETURNING rid)`;
  const version = `ver AS (INSERT INTO resource_versions (rid, type, id, version, last_updated, method, resource)
    SELECT cur.rid, $1, $2, $3, $4::timestamptz, $8, $9::jsonb FROM cur)`;
  text = `WITH ${[cur, ...deletes, ...inserts, version].join(',\n  ')}\n  SELECT rid::text AS rid FROM cur`;
  writeSqlCache.set(cacheKey, text);
  return text;
}
