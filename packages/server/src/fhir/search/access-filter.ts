// The one place where the principal narrows what a search can see. Every resources row a search reads (matches,
// chained and `_has` targets, `_include` / `_revinclude` results, `$everything`) is filtered through it, so scope
// enforcement plugs in here and applies everywhere at once. It returns SQL over the row alias it is given.
import type { Principal } from '../../access/principal.ts';
import { TRUE, type Sql } from './sql.ts';

/**
 * The rows of `row` (an alias of `resources`) that `principal` may read, for a search over `type`
 * (undefined: several types; use `row.type`). Everything is visible until SMART scope enforcement lands:
 * then `patient/` scopes become `row.compartments @> ARRAY['Patient/<launch patient>']` and resource-type
 * scopes `row.type = ANY(<granted types>)`, both single indexed predicates.
 */
export function accessFilter(_principal: Principal, _type: string | undefined, _row: Sql): Sql {
  return TRUE;
}
