// URI parameters (R4 search §3.1.1.4.13): exact match; `:below` matches URIs that start with the value,
// `:above` matches URIs the value starts with.
import { likeEscape, or, sql, type Sql } from './sql.ts';
import { unescapeValue } from './values.ts';

export type UriMatch = 'exact' | 'below' | 'above';

export function parseUriValues(values: string[]): string[] {
  return values.map(unescapeValue);
}

/** Predicate on one `sp_uri` row `s`. */
export function uriMatch(s: Sql, match: UriMatch, values: string[]): Sql {
  if (match === 'exact') return values.length === 1 ? sql`${s}.value = ${values[0]}` : sql`${s}.value = ANY(${values}::text[])`;
  return or(
    ...values.map((v) =>
      match === 'below' ? sql`${s}.value LIKE ${likeEscape(v) + '%'}` : sql`left(${v}::text, length(${s}.value)) = ${s}.value`,
    ),
  );
}
