// A small typed SQL builder: statement text comes only from this code, every value becomes a bound `$n`.
// Fragments nest; numbering happens once, when the whole statement is rendered.

/** A piece of SQL: text chunks with values between them (chunks.length === values.length + 1). */
export class Sql {
  private constructor(
    readonly chunks: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** Internal constructor; use `sql`, `raw` and `bind`. */
  static of(chunks: readonly string[], values: readonly unknown[]): Sql {
    return new Sql(chunks, values);
  }

  /**
   * Renders to text with `$1..$n` placeholders and the matching parameter array; with `first`, the placeholders
   * start there (a statement placed after others' parameters: store/statement-batcher.ts).
   */
  render(first = 1): { text: string; params: unknown[] } {
    let text = this.chunks[0]!;
    for (let i = 0; i < this.values.length; i++) text += `$${first + i}${this.chunks[i + 1]}`;
    return { text, params: [...this.values] };
  }
}

/**
 * Tagged template: interpolated `Sql` fragments are inlined, anything else is bound as a parameter.
 * `sql\`s.p = ${key}\`` never splices `key` into the text.
 */
export function sql(strings: TemplateStringsArray, ...args: unknown[]): Sql {
  const chunks: string[] = [strings[0]!];
  const values: unknown[] = [];
  args.forEach((arg, i) => {
    if (arg instanceof Sql) {
      chunks[chunks.length - 1] += arg.chunks[0];
      for (let j = 0; j < arg.values.length; j++) {
        values.push(arg.values[j]);
        chunks.push(arg.chunks[j + 1]!);
      }
    } else {
      values.push(arg);
      chunks.push('');
    }
    chunks[chunks.length - 1] += strings[i + 1];
  });
  return Sql.of(chunks, values);
}

/** SQL text written in this code base (keywords, generated aliases, table names). Never pass input here. */
export function raw(text: string): Sql {
  return Sql.of([text], []);
}

/** One bound value. */
export function bind(value: unknown): Sql {
  return Sql.of(['', ''], [value]);
}

export function join(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) return raw('');
  let out = parts[0]!;
  for (const p of parts.slice(1)) out = sql`${out}${raw(separator)}${p}`;
  return out;
}

export const TRUE = raw('TRUE');
export const FALSE = raw('FALSE');

const isTrue = (s: Sql) => s.values.length === 0 && s.chunks[0] === 'TRUE';
const isFalse = (s: Sql) => s.values.length === 0 && s.chunks[0] === 'FALSE';

/** Conjunction, with TRUE terms dropped. */
export function and(...parts: Sql[]): Sql {
  if (parts.some(isFalse)) return FALSE;
  const kept = parts.filter((p) => !isTrue(p));
  if (kept.length === 0) return TRUE;
  if (kept.length === 1) return kept[0]!;
  return sql`(${join(kept, ' AND ')})`;
}

/** Disjunction, with FALSE terms dropped. */
export function or(...parts: Sql[]): Sql {
  if (parts.some(isTrue)) return TRUE;
  const kept = parts.filter((p) => !isFalse(p));
  if (kept.length === 0) return FALSE;
  if (kept.length === 1) return kept[0]!;
  return sql`(${join(kept, ' OR ')})`;
}

export function not(part: Sql): Sql {
  if (isTrue(part)) return FALSE;
  if (isFalse(part)) return TRUE;
  return sql`NOT ${part}`;
}

/** Key match: `col = $1` for one key, `col = ANY($1::text[])` for several (system-level searches). */
export function inKeys(column: Sql, keys: readonly string[]): Sql {
  return keys.length === 1 ? sql`${column} = ${keys[0]}` : sql`${column} = ANY(${[...keys]}::text[])`;
}

/** Escapes LIKE wildcards so the value matches literally (default escape character `\`). */
export function likeEscape(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Generates the statement's table aliases (`s1`, `t2`…): always from code, never from input. */
export class Aliases {
  private n = 0;
  next(prefix: string): Sql {
    this.n += 1;
    return raw(`${prefix}${this.n}`);
  }
}
