// A small typed SQL builder: statement text comes only from this code, every value becomes a bound `$n`.
// Fragments nest as a tree (a template's strings and its arguments, by reference); the text and the `$n` numbering
// are produced once, when the whole statement is rendered. Building a statement copies nothing, so its cost grows
// with its size, not with its size times its depth (a patient search is built from about 60 fragments).

/** A piece of SQL: a template's strings with arguments between them (strings.length === args.length + 1); an
 * argument is another Sql, inlined, or a value, bound. */
export class Sql {
  private constructor(
    private readonly strings: readonly string[],
    private readonly args: readonly unknown[],
  ) {}

  /** Internal constructor; use `sql`, `raw` and `bind`. */
  static of(strings: readonly string[], args: readonly unknown[]): Sql {
    return new Sql(strings, args);
  }

  /**
   * Renders to text with `$1..$n` placeholders and the matching parameter array; with `first`, the placeholders
   * start there (a statement placed after others' parameters: store/statement-batcher.ts).
   */
  render(first = 1): { text: string; params: unknown[] } {
    const out = { text: '', params: [] as unknown[] };
    this.#write(out, first);
    return out;
  }

  #write(out: { text: string; params: unknown[] }, first: number): void {
    out.text += this.strings[0];
    for (let i = 0; i < this.args.length; i++) {
      const arg = this.args[i];
      if (arg instanceof Sql) arg.#write(out, first);
      else out.text += `$${first + out.params.push(arg) - 1}`;
      out.text += this.strings[i + 1];
    }
  }

  /** The text alone when this is a bare piece of text (`raw`, or a template of one), seen through wrappers like
   * `${x}`; undefined when it binds values or has parts. */
  get bareText(): string | undefined {
    if (this.args.length === 0) return this.strings[0];
    const [only] = this.args;
    return this.args.length === 1 && this.strings[0] === '' && this.strings[1] === '' && only instanceof Sql ? only.bareText : undefined;
  }
}

/**
 * Tagged template: interpolated `Sql` fragments are inlined, anything else is bound as a parameter.
 * `sql\`s.p = ${key}\`` never splices `key` into the text.
 */
export function sql(strings: TemplateStringsArray, ...args: unknown[]): Sql {
  return Sql.of(strings, args);
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
  return Sql.of(['', ...new Array<string>(parts.length - 1).fill(separator), ''], parts);
}

export const TRUE = raw('TRUE');
export const FALSE = raw('FALSE');

const isTrue = (s: Sql) => s === TRUE || s.bareText === 'TRUE';
const isFalse = (s: Sql) => s === FALSE || s.bareText === 'FALSE';

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
