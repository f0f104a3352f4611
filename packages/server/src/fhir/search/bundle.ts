// The searchset Bundle (R4 bundle.html, search §3.1.1.2 "Search results"), written as JSON text around the
// stored resource text: a resource is never parsed and re-serialised here.
import { randomUUID } from 'node:crypto';

export interface BundleLink {
  relation: 'self' | 'first' | 'previous' | 'next';
  url: string;
}

export interface BundleEntry {
  type: string;
  id: string;
  /** The resource as stored (JSON text). */
  json: string;
  mode: 'match' | 'include';
}

export interface SearchsetParts {
  total?: number;
  links: BundleLink[];
  entries: BundleEntry[];
  fhirBase: string;
  now: Date;
}

export function searchsetBundle(b: SearchsetParts): string {
  const head = `{"resourceType":"Bundle","id":"${randomUUID()}","meta":{"lastUpdated":"${b.now.toISOString()}"},"type":"searchset"`;
  const total = b.total === undefined ? '' : `,"total":${b.total}`;
  const parts = [head, total, ',"link":', JSON.stringify(b.links)];
  if (b.entries.length > 0) {
    // A stored type and id are FHIR ids ([A-Za-z0-9.-]): only the base URL may need escaping, once per Bundle. The
    // pieces are joined once: a template per entry made a 20-entry page (17 kB) take 19 µs instead of 9 (2026-12-07).
    const fullUrl = `{"fullUrl":${JSON.stringify(`${b.fhirBase}/`).slice(0, -1)}`;
    const nextFullUrl = `,${fullUrl}`;
    parts.push(',"entry":[');
    b.entries.forEach((e, i) => {
      parts.push(i === 0 ? fullUrl : nextFullUrl, e.type, '/', e.id, '","resource":', e.json, e.mode === 'match' ? MATCH : INCLUDE);
    });
    parts.push(']');
  }
  parts.push('}');
  return parts.join('');
}

const MATCH = ',"search":{"mode":"match"}}';
const INCLUDE = ',"search":{"mode":"include"}}';

// Characters RFC 3986 allows in a query as they are: kept readable in links (`_include=Observation:patient`).
const KEEP = { '%3A': ':', '%2C': ',', '%2F': '/', '%24': '$' } as Record<string, string>;
const encode = (s: string) => {
  const encoded = encodeURIComponent(s);
  return encoded.includes('%') ? encoded.replace(/%3A|%2C|%2F|%24/g, (m) => KEEP[m]!) : encoded;
};

/** `path?name=value&…` with the given parameters in order. */
export function linkUrl(path: string, params: readonly (readonly [string, string])[]): string {
  const qs = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return qs === '' ? path : `${path}?${qs}`;
}

/** Where a page stands: the cursor it was asked with (undefined on the first page), its direction, whether more follow. */
export interface PageState {
  cursor?: string;
  backward: boolean;
  more: boolean;
  /** `_summary=count` or `_count=0`: a self link only. */
  countOnly?: boolean;
}

/**
 * R4 search §3.1.1.2 / http.html#paging: self, first, previous and next links; previous and next carry a keyset
 * cursor, which `cursorAt` makes from the page's first or last row. The query is encoded once: each link is the
 * first page's URL, with a cursor appended where it has one.
 */
export function pageLinks<R>(
  path: string,
  applied: readonly (readonly [string, string])[],
  page: PageState,
  rows: readonly R[],
  cursorAt: (row: R, backward: boolean) => string,
): BundleLink[] {
  const first = linkUrl(path, applied);
  const at = (cursor: string) => `${first}${applied.length > 0 ? '&' : '?'}_cursor=${encode(cursor)}`;
  const links: BundleLink[] = [{ relation: 'self', url: page.cursor === undefined ? first : at(page.cursor) }];
  if (page.countOnly) return links;
  links.push({ relation: 'first', url: first });
  const firstRow = rows[0];
  const lastRow = rows.at(-1);
  if (firstRow !== undefined && (page.backward ? page.more : page.cursor !== undefined)) links.push({ relation: 'previous', url: at(cursorAt(firstRow, true)) });
  if (lastRow !== undefined && (page.backward || page.more)) links.push({ relation: 'next', url: at(cursorAt(lastRow, false)) });
  return links;
}
