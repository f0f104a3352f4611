// Number (R4 search §3.1.1.4.1) and quantity (§3.1.1.4.6) parameters.
// eq / ne / ap honour the implicit precision of the value ("100" is [99.5, 100.5), "100.00" is [99.995, 100.005),
// "1e2" is [50, 150): half a unit of the last significant digit); the other prefixes compare with the exact value
// ("the implicit precision of the number is ignored" for lt, gt, le, ge, sa, eb).
// Quantity: `[prefix]value|system|code`, `value||code` (code or unit), or the value alone. No UCUM conversion.
import { badRequest } from '../errors.ts';
import type { NumberValue, Prefix, QuantityValue } from './ast.ts';
import { and, not, or, sql, type Sql } from './sql.ts';
import { splitPrefix, splitUnescaped, unescapeValue } from './values.ts';

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export function parseNumberValue(value: string, param: string): NumberValue {
  const { prefix, rest } = splitPrefix(value);
  const m = rest.length <= 100 ? DECIMAL.exec(rest) : null;
  if (!m) throw badRequest(`Invalid number '${value}' for ${param}: expected [prefix]decimal, e.g. ge100 or 1e2`, [param]);
  const decimals = m[3]?.length ?? 0;
  const exponent = Number(m[4] ?? 0);
  if (Math.abs(exponent) > 1000) throw badRequest(`Number out of range in ${param}=${value}`, [param]);
  return { prefix, value: rest, half: `5e${exponent - decimals - 1}` };
}

export function parseQuantityValue(value: string, param: string): QuantityValue {
  const parts = splitUnescaped(value, '|').map(unescapeValue);
  if (parts.length !== 1 && parts.length !== 3) {
    throw badRequest(`Invalid quantity '${value}' for ${param}: expected [prefix]value[|system|code]`, [param]);
  }
  const number = parseNumberValue(parts[0]!, param);
  const [, system, code] = parts;
  return { ...number, ...(system ? { system } : {}), ...(code ? { code } : {}) };
}

/** Predicate on a numeric column for one value and prefix. */
export function numberCompare(col: Sql, v: NumberValue): Sql {
  const n = sql`${v.value}::numeric`;
  const h = sql`${v.half}::numeric`;
  const inRange = sql`(${col} >= ${n} - ${h} AND ${col} < ${n} + ${h})`;
  const cases: Record<Prefix, () => Sql> = {
    eq: () => inRange,
    ne: () => not(inRange),
    gt: () => sql`${col} > ${n}`,
    sa: () => sql`${col} > ${n}`,
    lt: () => sql`${col} < ${n}`,
    eb: () => sql`${col} < ${n}`,
    ge: () => sql`${col} >= ${n}`,
    le: () => sql`${col} <= ${n}`,
    // ap: within 10% of the value (R4 recommends 10%), and never narrower than the implicit precision.
    ap: () => sql`(${col} >= ${n} - greatest(abs(${n}) * 0.1, ${h}) AND ${col} <= ${n} + greatest(abs(${n}) * 0.1, ${h}))`,
  };
  return cases[v.prefix]();
}

/** Predicate on one `sp_number` row `s`. */
export function numberMatch(s: Sql, values: NumberValue[]): Sql {
  return or(...values.map((v) => numberCompare(sql`${s}.value`, v)));
}

/** Predicate on one `sp_quantity` row `s`. */
export function quantityMatch(s: Sql, values: QuantityValue[]): Sql {
  return or(
    ...values.map((v) =>
      and(
        numberCompare(sql`${s}.value`, v),
        v.system !== undefined ? sql`${s}.system = ${v.system}` : sql`TRUE`,
        v.code === undefined ? sql`TRUE` : v.system !== undefined ? sql`${s}.code = ${v.code}` : sql`(${s}.code = ${v.code} OR ${s}.unit = ${v.code})`,
      ),
    ),
  );
}
