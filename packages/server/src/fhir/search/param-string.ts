// String parameters (R4 search §3.1.1.4.9): by default a case- and accent-insensitive "starts with" on the
// normalised text; `:exact` compares the text as written; `:contains` matches anywhere in the normalised text.
import { normalizeString } from '../index-extract.ts';
import { likeEscape, or, sql, type Sql } from './sql.ts';
import { unescapeValue } from './values.ts';

export type StringMatch = 'start' | 'exact' | 'contains';

export function parseStringValues(values: string[]): string[] {
  return values.map(unescapeValue);
}

/** Predicate on one `sp_string` row `s`. Uses `sp_string_lookup (p, norm text_pattern_ops)` for starts-with. */
export function stringMatch(s: Sql, match: StringMatch, values: string[]): Sql {
  return or(
    ...values.map((v) => {
      if (match === 'exact') return sql`${s}.exact = ${v}`;
      const norm = likeEscape(normalizeString(v));
      return match === 'start' ? sql`${s}.norm LIKE ${norm + '%'}` : sql`${s}.norm LIKE ${'%' + norm + '%'}`;
    }),
  );
}
