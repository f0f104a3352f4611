// Splitting and unescaping of search values (R4 search §3.1.1.3 "Escaping Search Parameters": `\,` `\|` `\$`
// and `\\` stand for the literal characters), and prefix detection for ordered types.
import { badRequest } from '../errors.ts';
import { PREFIXES, type Prefix } from './ast.ts';

/** Splits on `sep` where it is not escaped; the parts keep their escapes for further splitting. */
export function splitUnescaped(value: string, sep: ',' | '|' | '$'): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      current += ch + value[i + 1];
      i++;
    } else if (ch === sep) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** Removes the escapes: `\,` → `,`, `\|` → `|`, `\$` → `$`, `\\` → `\`. */
export function unescapeValue(value: string): string {
  return value.replace(/\\([,|$\\])/g, '$1');
}

/** The comma-separated alternatives of one parameter value (R4 search §3.1.1.3 "OR"), empty ones dropped. */
export function alternatives(value: string): string[] {
  return splitUnescaped(value, ',').filter((v) => v !== '');
}

/**
 * Splits `ge2019` into `ge` and `2019`; a value without a prefix is `eq` (R4 search §3.1.1.4). Anything else is
 * left whole, for the type's parser to reject with its own message.
 */
export function splitPrefix(value: string): { prefix: Prefix; rest: string } {
  const p = value.slice(0, 2) as Prefix;
  return PREFIXES.includes(p) ? { prefix: p, rest: value.slice(2) } : { prefix: 'eq', rest: value };
}

/** `:missing` takes `true` or `false` (R4 search §3.1.1.5.1). */
export function parseBoolean(value: string, param: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw badRequest(`${param} takes true or false, got '${value}'`, [param]);
}
