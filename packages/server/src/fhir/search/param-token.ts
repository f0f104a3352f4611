// Token parameters (R4 search §3.1.1.4.10): `code`, `system|code`, `|code` (no system), `system|`;
// `:not` excludes resources with a matching token, `:text` searches the display / text.
import { badRequest } from '../errors.ts';
import { normalizeString } from '../index-extract.ts';
import type { TokenValue } from './ast.ts';
import { and, likeEscape, or, sql, type Sql } from './sql.ts';
import { splitUnescaped, unescapeValue } from './values.ts';

export function parseTokenValue(value: string, param: string): TokenValue {
  const parts = splitUnescaped(value, '|').map(unescapeValue);
  if (parts.length === 1) return { code: parts[0]! };
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) {
    throw badRequest(`Invalid token '${value}' for ${param}: expected [system|]code`, [param]);
  }
  const [system, code] = parts as [string, string];
  return { system: system === '' ? null : system, ...(code === '' ? {} : { code }) };
}

/** Predicate on one `sp_token` row `s`. Uses `sp_token_lookup (p, code, system)` whenever a code is given. */
export function tokenMatch(s: Sql, values: TokenValue[]): Sql {
  const codeOnly = values.filter((v) => v.system === undefined && v.code !== undefined);
  const others = values.filter((v) => !(v.system === undefined && v.code !== undefined));
  const codes = codeOnly.map((v) => v.code!);
  return or(
    ...(codes.length === 1 ? [sql`${s}.code = ${codes[0]}`] : codes.length > 1 ? [sql`${s}.code = ANY(${codes}::text[])`] : []),
    ...others.map((v) =>
      and(
        v.code === undefined ? sql`TRUE` : sql`${s}.code = ${v.code}`,
        v.system === null ? sql`${s}.system IS NULL` : sql`${s}.system = ${v.system}`,
      ),
    ),
  );
}

/** `:text`: the normalised value occurs in the lower-cased display / text of the coding or concept. */
export function tokenTextMatch(s: Sql, values: string[]): Sql {
  return or(...values.map((v) => sql`${s}.text LIKE ${'%' + likeEscape(normalizeString(unescapeValue(v))) + '%'}`));
}
