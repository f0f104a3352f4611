// Parses one filter parameter (`name[:modifier][.chain]=value`, `_has:…`, `_id`, `_lastUpdated`) into a typed
// Condition. Values are validated here, so a bad value fails before any SQL runs.
// @see http://hl7.org/fhir/R4/search.html §3.1.1.5 (modifiers), §3.1.1.4.13 (chaining), §3.1.1.4.14 (_has)
import { badRequest, notSupported } from '../errors.ts';
import { getSearchParam, indexesReferenceIdentifiers, isResourceType, type SearchParamDef } from '../search-parameters.ts';
import type { Condition, ResolvedParam } from './ast.ts';
import { parseDateValue } from './param-date.ts';
import { parseNumberValue, parseQuantityValue } from './param-number.ts';
import { parseReferenceValue } from './param-reference.ts';
import { parseStringValues } from './param-string.ts';
import { parseTokenValue } from './param-token.ts';
import { parseUriValues } from './param-uri.ts';
import { alternatives, parseBoolean, unescapeValue } from './values.ts';

/** Chains and `_has` may nest this deep (`a.b.c`, `_has:…:_has:…`). */
export const MAX_CHAIN_DEPTH = 3;

/** Thrown for a parameter name the server does not know: ignored (lenient) or a 400 (strict) by the caller. */
export class UnknownParameterError extends Error {
  constructor(readonly param: string) {
    super(`Unknown search parameter '${param}'`);
    this.name = 'UnknownParameterError';
  }
}

export interface ParseContext {
  /** This server's FHIR base: absolute references under it are local. */
  fhirBase?: string;
  /** The clock for `ap` dates. */
  now: Date;
}

// R4 search §3.1.1.5: every modifier the specification defines; anything else is an invalid modifier.
const KNOWN_MODIFIERS = new Set(['missing', 'exact', 'contains', 'not', 'text', 'in', 'not-in', 'below', 'above', 'type', 'identifier', 'ofType', 'of-type']);
const SUPPORTED: Record<ResolvedParam['type'], readonly string[]> = {
  string: ['missing', 'exact', 'contains'],
  token: ['missing', 'not', 'text'],
  reference: ['missing', 'identifier'], // plus `:[type]`
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['missing', 'below', 'above'],
};

/** The modifiers supported for a parameter type (`type` stands for `:[type]` on references). */
export function supportedModifiers(type: ResolvedParam['type']): string[] {
  return type === 'reference' ? [...SUPPORTED.reference, 'type'] : [...SUPPORTED[type]];
}

/** A parameter defined, with the same type, on every resource type in `scope`; undefined otherwise. */
export function resolveParam(scope: readonly string[], code: string): ResolvedParam | undefined {
  const defs: SearchParamDef[] = [];
  for (const type of scope) {
    const def = getSearchParam(type, code);
    if (!def || (defs.length > 0 && def.type !== defs[0]!.type)) return undefined;
    defs.push(def);
  }
  if (defs.length === 0) return undefined;
  return { code, type: defs[0]!.type, keys: defs.map((d) => d.key), targets: [...new Set(defs.flatMap((d) => d.targets))].sort() };
}

const NAME = /^([A-Za-z0-9_-]+)(?::([A-Za-z-]+))?(?:\.(.+))?$/;

export function parseCondition(scope: readonly string[], name: string, value: string, ctx: ParseContext, depth = 0): Condition {
  if (name === '_has' || name.startsWith('_has:')) return parseHas(scope, name, value, ctx, depth);
  const m = NAME.exec(name);
  if (!m) throw new UnknownParameterError(name);
  const [, code, modifier, chain] = m as unknown as [string, string, string | undefined, string | undefined];
  const values = alternatives(value);
  if (values.length === 0) throw badRequest(`${name} has no value`, [name]);

  if (code === '_id') {
    if (modifier !== undefined || chain !== undefined) throw badRequest(`_id does not take modifiers or chains: '${name}'`, [name]);
    return { kind: 'id', ids: values.map(unescapeValue) };
  }
  if (code === '_lastUpdated') {
    if (modifier !== undefined || chain !== undefined) throw badRequest(`_lastUpdated does not take modifiers or chains: '${name}'`, [name]);
    return { kind: 'last-updated', values: values.map((v) => parseDateValue(v, name, ctx.now)) };
  }
  const param = resolveParam(scope, code);
  if (!param) throw new UnknownParameterError(name);
  if (chain !== undefined) return parseChain(param, name, modifier, chain, value, ctx, depth);
  if (modifier === 'missing') return { kind: 'missing', param, missing: parseBoolean(value, name) };
  if (modifier !== undefined) checkModifier(param, name, modifier);

  switch (param.type) {
    case 'string':
      return { kind: 'string', param, match: modifier === 'exact' ? 'exact' : modifier === 'contains' ? 'contains' : 'start', values: parseStringValues(values) };
    case 'token':
      if (modifier === 'text') return { kind: 'token-text', param, values };
      return { kind: 'token', param, negate: modifier === 'not', values: values.map((v) => parseTokenValue(v, name)) };
    case 'reference':
      // `:identifier` matches the Reference.identifier token rows indexed under the reference parameter's key.
      if (modifier === 'identifier') return { kind: 'token', param, negate: false, values: values.map((v) => parseTokenValue(v, name)) };
      return { kind: 'reference', param, values: values.map((v) => parseReferenceValue(v, name, param.targets, modifier, ctx.fhirBase)) };
    case 'date':
      return { kind: 'date', param, values: values.map((v) => parseDateValue(v, name, ctx.now)) };
    case 'number':
      return { kind: 'number', param, values: values.map((v) => parseNumberValue(v, name)) };
    case 'quantity':
      return { kind: 'quantity', param, values: values.map((v) => parseQuantityValue(v, name)) };
    case 'uri':
      return { kind: 'uri', param, match: modifier === 'below' ? 'below' : modifier === 'above' ? 'above' : 'exact', values: parseUriValues(values) };
  }
}

function checkModifier(param: ResolvedParam, name: string, modifier: string): void {
  if (param.type === 'reference' && isResourceType(modifier)) {
    // R4 search §3.1.1.4.12: `:[type]` must be one of the parameter's target types.
    if (param.targets.length > 0 && !param.targets.includes(modifier)) {
      throw badRequest(`${name}: ${modifier} is not a target type of '${param.code}' (${param.targets.join(', ')})`, [name]);
    }
    return;
  }
  if (modifier === 'identifier' && param.type === 'reference' && !param.keys.every(indexesReferenceIdentifiers)) {
    throw notSupported(`The :identifier modifier is not supported on '${param.code}': its identifiers are not indexed`);
  }
  if (SUPPORTED[param.type].includes(modifier)) return;
  if (KNOWN_MODIFIERS.has(modifier)) throw notSupported(`The :${modifier} modifier is not supported on ${param.type} parameter '${param.code}'`);
  throw badRequest(`Unknown modifier ':${modifier}' in '${name}'`, [name]);
}

// R4 search §3.1.1.4.13 (chained parameters): `subject:Patient.name=peter`; without a type modifier the chain runs
// over every target type that defines the chained parameter.
function parseChain(param: ResolvedParam, name: string, modifier: string | undefined, chain: string, value: string, ctx: ParseContext, depth: number): Condition {
  if (param.type !== 'reference') throw badRequest(`'${param.code}' is not a reference parameter and cannot be chained ('${name}')`, [name]);
  if (depth >= MAX_CHAIN_DEPTH) throw notSupported(`Chains are limited to ${MAX_CHAIN_DEPTH} levels ('${name}')`);
  let targetTypes = param.targets;
  if (modifier !== undefined) {
    if (!isResourceType(modifier) || (param.targets.length > 0 && !param.targets.includes(modifier))) {
      throw badRequest(`Unknown chain target '${modifier}' in '${name}'`, [name]);
    }
    targetTypes = [modifier];
  }
  if (targetTypes.length === 0) throw badRequest(`'${name}' needs a :[type] modifier to chain`, [name]);
  const links: { targetType: string; condition: Condition }[] = [];
  for (const targetType of targetTypes) {
    try {
      links.push({ targetType, condition: parseCondition([targetType], chain, value, ctx, depth + 1) });
    } catch (err) {
      if (!(err instanceof UnknownParameterError)) throw err;
    }
  }
  if (links.length === 0) throw badRequest(`Unknown chained parameter '${chain}' on ${targetTypes.join(', ')} in '${name}'`, [name]);
  return { kind: 'chain', param, links };
}

// R4 search §3.1.1.4.14 (reverse chaining): `_has:Observation:patient:code=1234-5` selects resources that an
// Observation matching `code=1234-5` references through its `patient` parameter. Nested `_has` is allowed.
function parseHas(scope: readonly string[], name: string, value: string, ctx: ParseContext, depth: number): Condition {
  const parts = name.split(':');
  const [, sourceType, refCode] = parts;
  const rest = parts.slice(3).join(':');
  if (parts.length < 4 || !sourceType || !refCode || rest === '') {
    throw badRequest(`Invalid _has parameter '${name}': expected _has:Type:reference:parameter`, [name]);
  }
  if (!isResourceType(sourceType)) throw badRequest(`Unknown resource type '${sourceType}' in '${name}'`, [name]);
  const ref = getSearchParam(sourceType, refCode);
  if (!ref || ref.type !== 'reference') throw badRequest(`'${refCode}' is not a reference parameter of ${sourceType} in '${name}'`, [name]);
  if (ref.targets.length > 0 && !scope.some((t) => ref.targets.includes(t))) {
    throw badRequest(`${sourceType}.${refCode} cannot refer to ${scope.length === 1 ? scope[0] : 'these types'} ('${name}')`, [name]);
  }
  if (depth >= MAX_CHAIN_DEPTH) throw notSupported(`_has is limited to ${MAX_CHAIN_DEPTH} levels ('${name}')`);
  try {
    return { kind: 'has', sourceType, key: ref.key, condition: parseCondition([sourceType], rest, value, ctx, depth + 1) };
  } catch (err) {
    if (err instanceof UnknownParameterError) throw badRequest(`Unknown parameter '${rest}' on ${sourceType} in '${name}'`, [name]);
    throw err;
  }
}
