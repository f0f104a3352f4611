// Keyset paging (architecture: "page by a stable key, never by a plain OFFSET over a changing set").
// A page ends at a row; its `next` link carries that row's sort-key values and rid in an opaque `_cursor`, and the
// next page is "rows strictly after this position in the total order". Rows inserted meanwhile land before or
// after the position, never shifting it, so pre-existing rows are neither repeated nor skipped.
// `previous` walks the same order backwards from the page's first row; its rows are re-reversed for display.
import { badRequest } from '../errors.ts';
import { and, FALSE, join, or, raw, sql, type Sql } from './sql.ts';

export type SqlCast = 'text' | 'numeric' | 'timestamptz' | 'bigint' | 'integer';

/** One ORDER BY key. The last key of every order is the row's `rid`, which makes the order total. */
export interface OrderKey {
  expr: Sql;
  cast: SqlCast;
  desc: boolean;
  /** Resources without a value for the key: they sort last in either direction. */
  nullable: boolean;
}

export interface Cursor {
  /** Text of each key's value for the boundary row (null when the row has no value for that key). */
  values: (string | null)[];
  /** Walk backwards (a `previous` link). */
  backward: boolean;
}

interface CursorJson {
  v: (string | null)[];
  b?: 1;
  /** The sort the cursor belongs to: a cursor is not valid for another `_sort`. */
  s: string;
}

export function encodeCursor(cursor: Cursor, sortSignature: string): string {
  const json: CursorJson = { v: cursor.values, s: sortSignature, ...(cursor.backward ? { b: 1 as const } : {}) };
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

export function decodeCursor(text: string, keys: readonly OrderKey[], sortSignature: string): Cursor {
  const invalid = () => badRequest(`Invalid _cursor: use the next / previous links of a search result unchanged`, ['_cursor']);
  let json: CursorJson;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as CursorJson;
  } catch {
    throw invalid();
  }
  if (!json || !Array.isArray(json.v) || json.v.length !== keys.length || json.s !== sortSignature) throw invalid();
  for (let i = 0; i < keys.length; i++) {
    const v = json.v[i];
    if (v === null && keys[i]!.nullable) continue;
    if (typeof v !== 'string' || !validText(v, keys[i]!.cast)) throw invalid();
  }
  return { values: json.v, backward: json.b === 1 };
}

function validText(v: string, cast: SqlCast): boolean {
  switch (cast) {
    case 'bigint':
    case 'integer':
      return /^-?\d{1,18}$/.test(v);
    case 'numeric':
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v);
    case 'timestamptz':
      return v === 'infinity' || v === '-infinity' || isIsoInstant(v);
    case 'text':
      return v.length <= 10_000;
  }
}

/** `2019-05-06T10:00:00.000000Z` that is a real calendar instant (checked, since a client can forge a cursor). */
function isIsoInstant(v: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(v)) return false;
  const ms = Date.parse(`${v.slice(0, 23)}Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 23) === v.slice(0, 23);
}

/** A key's value as text that reads back exactly with `::cast`, whatever the session's DateStyle. */
function keyText(k: OrderKey): Sql {
  if (k.cast !== 'timestamptz') return sql`${k.expr}::text`;
  return sql`CASE WHEN isfinite(${k.expr}) THEN to_char(${k.expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE ${k.expr}::text END`;
}

/** `… AS k0, …`: the key values of each row, for building cursors. */
function selectKeys(keys: readonly OrderKey[]): Sql {
  return join(
    keys.map((k, i) => sql`${keyText(k)} AS ${raw(`k${i}`)}`),
    ', ',
  );
}

/**
 * The statement for one page: rows are ordered and limited on their keys first, and only the rows kept have their
 * JSON produced (jsonb to text is the costly part of a wide match set). The kept rows' key values come out as
 * `v0, v1, …` and the outer query orders by them again: a nested loop keeps its outer order, so the planner does not
 * sort twice (a `row_number()` window with a join and a sort on it cost about 10% of a patient's search).
 */
export function pageSql(r: Sql, from: Sql, where: Sql, keys: readonly OrderKey[], backward: boolean, limit: number): Sql {
  const kept = keys.map((k, i): OrderKey => ({ ...k, expr: raw(`p.v${i}`) }));
  return sql`SELECT p.page_rid::text AS rid, x.type, x.id, x.json, ${selectKeys(kept)}
    FROM (SELECT ${r}.rid AS page_rid, ${join(keys.map((k, i) => sql`${k.expr} AS ${raw(`v${i}`)}`), ', ')} FROM ${from} WHERE ${where}
      ORDER BY ${orderBySql(keys, backward)} LIMIT ${limit}) p
    CROSS JOIN LATERAL (SELECT x.type, x.id, x.resource::text AS json FROM resources x WHERE x.rid = p.page_rid) x
    ORDER BY ${orderBySql(kept, backward)}`;
}

/** ORDER BY for walking forward (the requested order) or backward (its exact reverse). */
export function orderBySql(keys: readonly OrderKey[], backward: boolean): Sql {
  return join(
    keys.map((k) => {
      const desc = k.desc !== backward;
      // Missing values last when walking forward, so first when walking backward.
      return sql`${k.expr} ${raw(desc ? 'DESC' : 'ASC')} ${raw(backward ? 'NULLS FIRST' : 'NULLS LAST')}`;
    }),
    ', ',
  );
}

/**
 * Rows strictly after the cursor position in the walking order:
 * (k0 after c0) OR (k0 = c0 AND k1 after c1) OR … — null-aware, since values may be missing.
 */
export function keysetSql(keys: readonly OrderKey[], cursor: Cursor): Sql {
  const terms: Sql[] = [];
  const equal: Sql[] = [];
  keys.forEach((k, i) => {
    const c = cursor.values[i] ?? null;
    const value = sql`${c}::${raw(k.cast)}`;
    const desc = k.desc !== cursor.backward;
    const nullsFirst = cursor.backward;
    let after: Sql;
    if (c === null) after = nullsFirst ? sql`${k.expr} IS NOT NULL` : FALSE;
    else {
      const cmp = sql`${k.expr} ${raw(desc ? '<' : '>')} ${value}`;
      after = k.nullable && !nullsFirst ? or(cmp, sql`${k.expr} IS NULL`) : cmp;
    }
    terms.push(and(...equal, after));
    equal.push(c === null ? sql`${k.expr} IS NULL` : sql`${k.expr} = ${value}`);
  });
  return or(...terms);
}
