// The one place where the principal narrows what a search can see. Every resources row a search reads (matches,
// chained and `_has` targets, `_include` / `_revinclude` results, `$everything`) is filtered through it, so scope
// enforcement applies everywhere at once. It returns SQL over the row alias it is given.
import type { Principal } from '../../access/principal.ts';
import { visibleTypes } from '../../access/scope-check.ts';
import { RESOURCE_TYPES } from '../search-parameters.ts';
import { FALSE, sql, TRUE, type Sql } from './sql.ts';

/**
 * The rows of `row` (an alias of `resources`) that `principal` may see, for a search over `type` (undefined: several
 * types; use `row.type`): today, the resource types its scopes grant read or search on. Issue 4's next slices add the
 * launch patient's compartment (`row.compartments @> ARRAY['Patient/<id>']`) and granular constraints here.
 */
export function accessFilter(principal: Principal, type: string | undefined, row: Sql): Sql {
  const types = visibleTypes(principal, RESOURCE_TYPES);
  if (types === '*') return TRUE;
  if (type !== undefined) return types.includes(type) ? TRUE : FALSE;
  return types.length ? sql`${row}.type = ANY(${types}::text[])` : FALSE;
}
