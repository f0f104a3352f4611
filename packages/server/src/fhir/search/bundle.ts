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
  const link = `,"link":${JSON.stringify(b.links)}`;
  const entries = b.entries.map(
    (e) => `{"fullUrl":${JSON.stringify(`${b.fhirBase}/${e.type}/${e.id}`)},"resource":${e.json},"search":{"mode":"${e.mode}"}}`,
  );
  return `${head}${total}${link}${entries.length > 0 ? `,"entry":[${entries.join(',')}]` : ''}}`;
}

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
