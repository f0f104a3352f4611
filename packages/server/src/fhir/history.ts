// Instance, type and system history (R4 http.html#history): newest first, `_since`, `_count`,
// paged by commit sequence so pages stay stable while others write.
import { randomUUID } from 'node:crypto';
import type { Principal } from '../access/principal.ts';
import { requirePermission } from '../access/scope-check.ts';
import { accessFilter } from './search/access-filter.ts';
import { Aliases, raw } from './search/sql.ts';
import type { Queryable } from '../store/database.ts';
import { readHistory, type HistoryEntry } from '../store/repository.ts';
import { badRequest } from './errors.ts';
import { dateRange } from './index-extract.ts';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;

export interface HistoryRequest {
  type?: string;
  id?: string;
  params: URLSearchParams;
}

export async function historyBundle(q: Queryable, principal: Principal, req: HistoryRequest, fhirBase: string): Promise<string> {
  if (req.type !== undefined) requirePermission(principal, req.type, 'r');
  const count = parseCount(req.params.get('_count'));
  const since = parseSince(req.params.get('_since'));
  const cursor = req.params.get('_page');
  if (cursor !== null && !/^[0-9]{1,19}$/.test(cursor)) throw badRequest('Invalid _page cursor', ['_page']);
  // History entries are reads of versions: only resources whose current row the principal may read.
  const visible = accessFilter(principal, req.type, raw('r'), new Aliases(), ['r']);
  const filter = { type: req.type, id: req.id, since, visible };
  const rows = await readHistory(q, { ...filter, beforeSeq: cursor ?? undefined, limit: count + 1 });
  const page = rows.slice(0, count);
  const path = [fhirBase, req.type, req.id, '_history'].filter(Boolean).join('/');
  const query = (extra: Record<string, string>) => {
    const p = new URLSearchParams();
    if (since) p.set('_since', req.params.get('_since')!);
    p.set('_count', String(count));
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return `${path}?${p.toString()}`;
  };
  const links = [{ relation: 'self', url: query(cursor ? { _page: cursor } : {}) }];
  if (rows.length > count) links.push({ relation: 'next', url: query({ _page: page[page.length - 1]!.seq }) });
  const entries = page.map((e) => entryJson(e, fhirBase));
  // Bundle.total only when it is known without a count over the whole history: a single first page.
  const total = cursor === null && rows.length <= count ? `"total":${rows.length},` : '';
  return `{"resourceType":"Bundle","id":"${randomUUID()}","meta":{"lastUpdated":"${new Date().toISOString()}"},"type":"history",${total}"link":${JSON.stringify(links)},"entry":[${entries.join(',')}]}`;
}

function entryJson(e: HistoryEntry, fhirBase: string): string {
  const fullUrl = `${fhirBase}/${e.type}/${e.id}`;
  const request = { method: e.method === 'PATCH' ? 'PATCH' : e.method, url: e.method === 'POST' ? e.type : `${e.type}/${e.id}` };
  const response = { status: e.method === 'DELETE' ? '204' : e.method === 'POST' ? '201' : '200', etag: `W/"${e.version}"`, lastModified: e.lastUpdated };
  const head = `{"fullUrl":${JSON.stringify(fullUrl)}`;
  const tail = `"request":${JSON.stringify(request)},"response":${JSON.stringify(response)}}`;
  return e.json ? `${head},"resource":${e.json},${tail}` : `${head},${tail}`;
}

export function parseCount(value: string | null): number {
  if (value === null) return DEFAULT_PAGE_SIZE;
  if (!/^[0-9]+$/.test(value)) throw badRequest(`_count must be a non-negative integer, got '${value}'`, ['_count']);
  return Math.min(Number(value), MAX_PAGE_SIZE);
}

function parseSince(value: string | null): string | undefined {
  if (value === null) return undefined;
  // R4 http.html#history: _since is an instant; partial dates are accepted from their start.
  const range = dateRange(value);
  if (!range) throw badRequest(`_since must be a FHIR instant, got '${value}'`, ['_since']);
  return range.lo;
}
