// Date parameters (R4 search §3.1.1.4.2 and the prefix table in §3.1.1.4): a search value and a stored value are
// both ranges. Stored rows are half-open [lo, hi) (index-extract.ts); a search value's range comes from its
// precision: `2019` is [2019-01-01, 2020-01-01), `2019-05-06T10:00` is one minute.
import { badRequest } from '../errors.ts';
import { dateRange } from '../index-extract.ts';
import type { DateValue, Prefix } from './ast.ts';
import { or, sql, type Sql } from './sql.ts';
import { splitPrefix } from './values.ts';

/** `ap` widens the value by this fraction of the gap between the value and now (R4: "recommended 10%"). */
export const APPROXIMATE_FRACTION = 0.1;

export function parseDateValue(value: string, param: string, now: Date): DateValue {
  const { prefix, rest } = splitPrefix(value);
  const range = dateRange(rest);
  if (!range) throw badRequest(`Invalid date '${value}' for ${param}: expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|±hh:mm]]]]`, [param]);
  if (prefix !== 'ap') return { prefix, ...range };
  // ap: "the value for the parameter in the resource is approximately the same to the provided value"; we take
  // the value's own range widened on both sides by 10% of the distance from now to the value (at least 1 day).
  const lo = Date.parse(range.lo);
  const hi = Date.parse(range.hi);
  const gap = Math.max(Math.abs(now.getTime() - lo), Math.abs(now.getTime() - hi));
  const widen = Math.max(APPROXIMATE_FRACTION * gap, 86_400_000);
  return { prefix, lo: isoClamped(lo - widen), hi: isoClamped(hi + widen) };
}

const MIN_MS = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');
const isoClamped = (ms: number) => (ms < MIN_MS ? '-infinity' : ms > MAX_MS ? 'infinity' : new Date(ms).toISOString());

/**
 * Predicate on a stored range [lo, hi) for one search range [slo, shi), following R4 search §3.1.1.4 exactly:
 * eq: the search range fully contains the stored range; ne: it does not; gt: the range above the search value
 * overlaps the stored range; lt: the range below overlaps; ge: gt or eq; le: lt or eq; sa: the stored range starts
 * at or after the end of the search range; eb: it ends at or before its start; ap: the ranges overlap.
 */
export function rangeMatch(lo: Sql, hi: Sql, v: DateValue): Sql {
  const slo = sql`${v.lo}::timestamptz`;
  const shi = sql`${v.hi}::timestamptz`;
  const contained = sql`(${lo} >= ${slo} AND ${hi} <= ${shi})`;
  const cases: Record<Prefix, () => Sql> = {
    eq: () => contained,
    ne: () => sql`(${lo} < ${slo} OR ${hi} > ${shi})`,
    gt: () => sql`${hi} > ${shi}`,
    lt: () => sql`${lo} < ${slo}`,
    ge: () => sql`(${hi} > ${shi} OR ${contained})`,
    le: () => sql`(${lo} < ${slo} OR ${contained})`,
    sa: () => sql`${lo} >= ${shi}`,
    eb: () => sql`${hi} <= ${slo}`,
    ap: () => sql`(${lo} < ${shi} AND ${hi} > ${slo})`,
  };
  return cases[v.prefix]();
}

/** Predicate on one `sp_date` row `s` for comma-separated alternatives. */
export function dateMatch(s: Sql, values: DateValue[]): Sql {
  return or(...values.map((v) => rangeMatch(sql`${s}.lo`, sql`${s}.hi`, v)));
}

/**
 * `_lastUpdated` against the `resources.last_updated` instant t (a point, kept index-friendly): the range rules
 * above with [lo, hi) = [t, t + 1 ms) reduce to comparisons of t alone.
 */
export function instantMatch(t: Sql, values: DateValue[]): Sql {
  return or(
    ...values.map((v) => {
      const slo = sql`${v.lo}::timestamptz`;
      const shi = sql`${v.hi}::timestamptz`;
      const cases: Record<Prefix, () => Sql> = {
        eq: () => sql`(${t} >= ${slo} AND ${t} < ${shi})`,
        ne: () => sql`(${t} < ${slo} OR ${t} >= ${shi})`,
        gt: () => sql`${t} >= ${shi}`,
        sa: () => sql`${t} >= ${shi}`,
        lt: () => sql`${t} < ${slo}`,
        eb: () => sql`${t} < ${slo}`,
        ge: () => sql`${t} >= ${slo}`,
        le: () => sql`${t} < ${shi}`,
        ap: () => sql`(${t} >= ${slo} AND ${t} < ${shi})`,
      };
      return cases[v.prefix]();
    }),
  );
}
