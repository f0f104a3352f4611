// Patient/[id]/$everything (R4 patient-operation-everything.html): the Patient and every resource in its Patient
// compartment (AuditEvents only with `_type`), the Patient first, then in write order; `_count` paging (keyset, like
// search), `_since`, `_type`.
import type { Principal } from '../../access/principal.ts';
import type { Queryable } from '../../store/database.ts';
import { badRequest, notFound } from '../errors.ts';
import { dateRange } from '../index-extract.ts';
import { isResourceType } from '../search-parameters.ts';
import { accessFilter } from './access-filter.ts';
import { pageLinks, searchsetBundle } from './bundle.ts';
import { decodeCursor, encodeCursor, keysetSql, pageSql, type OrderKey } from './paging.ts';
import { DEFAULT_COUNT, parseCount } from './search-request.ts';
import { Aliases, and, raw, sql, TRUE } from './sql.ts';

const R = raw('r');
const SIGNATURE = '$everything';

export async function everything(q: Queryable, principal: Principal, patientId: string, params: URLSearchParams, fhirBase: string): Promise<string> {
  const now = new Date();
  const applied: [string, string][] = [];
  let count = DEFAULT_COUNT;
  let since: string | undefined;
  let types: string[] | undefined;
  let cursorText: string | undefined;
  // Other parameters (`start`, `end`, `_format`…) are not supported and ignored (not echoed in the self link).
  for (const [name, value] of params) {
    if (value === '') continue;
    if (value.includes('\0')) throw badRequest(`The parameter '${name}' contains a NUL character`, [name]);
    if (name === '_count') applied.push([name, String((count = parseCount(value)))]);
    else if (name === '_since') {
      const range = dateRange(value);
      if (!range) throw badRequest(`_since must be an instant, got '${value}'`, ['_since']);
      since = range.lo;
      applied.push([name, value]);
    } else if (name === '_type') {
      types = value.split(',').filter((t) => t !== '');
      for (const t of types) if (!isResourceType(t)) throw badRequest(`Unknown resource type '${t}' in _type`, ['_type']);
      applied.push([name, value]);
    } else if (name === '_cursor') cursorText = value;
  }

  const patient = sql`SELECT 1 FROM resources ${R} WHERE ${R}.type = 'Patient' AND ${R}.id = ${patientId} AND NOT ${R}.deleted AND ${accessFilter(principal, 'Patient', R, new Aliases())}`.render();
  if ((await q.query(patient.text, patient.params)).length === 0) throw notFound(`Patient/${patientId} is not known`);

  const keys: OrderKey[] = [
    { expr: sql`(CASE WHEN ${R}.type = 'Patient' AND ${R}.id = ${patientId} THEN 0 ELSE 1 END)`, cast: 'integer', desc: false, nullable: false },
    { expr: sql`${R}.rid`, cast: 'bigint', desc: false, nullable: false },
  ];
  const cursor = cursorText === undefined ? undefined : decodeCursor(cursorText, keys, SIGNATURE);
  const where = and(
    sql`${R}.compartments @> ARRAY[${`Patient/${patientId}`}]::text[]`,
    sql`NOT ${R}.deleted`,
    accessFilter(principal, undefined, R, new Aliases()),
    // The patient's audit trail is in their compartment too, but it is not "their record": it would grow with every
    // call and crowd the pages. It comes only when asked for (`_type=AuditEvent`), or through AuditEvent search.
    types ? sql`${R}.type = ANY(${types}::text[])` : sql`${R}.type <> 'AuditEvent'`,
    since ? sql`${R}.last_updated >= ${since}::timestamptz` : TRUE,
    cursor ? keysetSql(keys, cursor) : TRUE,
  );
  const page = pageSql(R, sql`resources ${R}`, where, keys, cursor?.backward ?? false, count + 1).render();
  let rows = await q.query<{ rid: string; type: string; id: string; json: string; k0: string; k1: string }>(page.text, page.params);
  const more = rows.length > count;
  rows = rows.slice(0, count);
  if (cursor?.backward) rows.reverse();

  const path = `${fhirBase}/Patient/${patientId}/$everything`;
  const links = pageLinks(path, applied, { cursor: cursorText, backward: cursor?.backward ?? false, more }, rows,
    (row, backward) => encodeCursor({ values: [row.k0, row.k1], backward }, SIGNATURE));
  return searchsetBundle({
    total: cursor === undefined && !more ? rows.length : undefined,
    links,
    entries: rows.map((r) => ({ type: r.type, id: r.id, json: r.json, mode: 'match' })),
    fhirBase,
    now,
  });
}
