// batch and transaction Bundles at POST {base}/fhir (R4 http.html#transaction).
// A transaction is one database transaction: every entry succeeds or nothing is written.
import { randomUUID } from 'node:crypto';
import type { Principal } from '../access/principal.ts';
import type { Queryable } from '../store/database.ts';
import { badRequest, FhirError } from './errors.ts';
import { checkReferencesExist, type PendingReference, type ResourceService, type WriteResult } from './resource-service.ts';
import { matchIds, searchBundle } from './search/search-service.ts';
import { isResourceType } from './search-parameters.ts';
import { toFhirError } from './http/error-handler.ts';
import { historyBundle } from './history.ts';
import { lockTypeForConditionalWrite, type StoredVersion } from '../store/repository.ts';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Entry {
  index: number;
  fullUrl?: string;
  resource?: Record<string, unknown>;
  method: Method;
  url: string;
  ifNoneExist?: string;
  ifMatch?: string;
}

/** R4 http.html#trules: DELETE, then POST, then PUT/PATCH, then GET/HEAD. */
const ORDER: Record<Method, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

export interface BundleOptions {
  /** Include each written resource in its response entry (Prefer: return=representation, the default). */
  returnResources?: boolean;
}

export class BundleService {
  constructor(
    private readonly resources: ResourceService,
    private readonly fhirBase: string,
  ) {}

  /** Processes a batch or transaction Bundle and returns the response Bundle as JSON text. */
  async process(principal: Principal, body: unknown, opts: BundleOptions = {}): Promise<string> {
    const { type, entries } = parseBundle(body, this.fhirBase);
    const responses: string[] = new Array(entries.length);
    if (type === 'transaction') {
      await this.resources.db.transaction(async (tx) => {
        const ids = await this.assignIds(tx, principal, entries);
        const pending: PendingReference[] = [];
        for (const entry of [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
          try {
            responses[entry.index] = await this.run(tx, principal, entry, ids, pending, opts);
          } catch (err) {
            throw prefixEntry(err, entry);
          }
        }
        await checkReferencesExist(tx, pending);
      });
    } else {
      // Batch entries are independent: each succeeds or fails on its own (R4 http.html#brules).
      for (const entry of entries) {
        try {
          responses[entry.index] = await this.resources.db.transaction((tx) => this.run(tx, principal, entry, new Map(), undefined, opts));
        } catch (err) {
          const fhirError = toFhirError(err);
          if (!fhirError) throw err;
          responses[entry.index] = `{"response":{"status":"${fhirError.status}","outcome":${JSON.stringify(fhirError.toOperationOutcome())}}}`;
        }
      }
    }
    return `{"resourceType":"Bundle","id":"${randomUUID()}","type":"${type}-response","link":[{"relation":"self","url":${JSON.stringify(this.fhirBase)}}],"entry":[${responses.join(',')}]}`;
  }

  /**
   * Maps every `urn:uuid:` fullUrl of a POST to the id it will get: conditional creates are resolved first
   * (a match keeps the existing id), other creates get a fresh id (R4 http.html#transaction, "Resolving references").
   */
  private async assignIds(tx: Queryable, principal: Principal, entries: Entry[]): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    for (const e of entries) {
      if (!e.fullUrl?.startsWith('urn:') || !e.resource) continue;
      if (ids.has(e.fullUrl)) throw badRequest(`Duplicate fullUrl ${e.fullUrl} in entry ${e.index}`);
      const type = String(e.resource.resourceType);
      if (e.method === 'POST') {
        if (e.ifNoneExist) await lockTypeForConditionalWrite(tx, type);
        const existing = e.ifNoneExist ? await matchIds(tx, principal, type, new URLSearchParams(e.ifNoneExist), this.fhirBase) : [];
        if (existing.length > 1) throw new FhirError(412, 'multiple-matches', `entry ${e.index}: ifNoneExist matched ${existing.length} resources`);
        ids.set(e.fullUrl, `${type}/${existing[0] ?? randomUUID()}`);
      } else if (e.method === 'PUT' && /^[A-Za-z]+\/[^/?]+$/.test(e.url)) {
        ids.set(e.fullUrl, e.url);
      }
    }
    return ids;
  }

  private async run(tx: Queryable, principal: Principal, e: Entry, ids: Map<string, string>, pending: PendingReference[] | undefined, opts: BundleOptions): Promise<string> {
    const { path, query } = splitUrl(e.url);
    const [type, id, sub, vid] = path.split('/');
    if (!type || !isResourceType(type)) throw badRequest(`Unknown resource type in request.url '${e.url}'`);
    const resource = e.resource ? await resolveReferences(tx, principal, e.resource, ids, this.fhirBase) : undefined;
    const write = { ifMatch: e.ifMatch, pendingReferences: pending };
    const written = (r: WriteResult) => writeResponse(r.stored, r.status, this.fhirBase, opts.returnResources !== false);
    switch (e.method) {
      case 'POST': {
        if (id) throw badRequest(`POST request.url must be a resource type, got '${e.url}'`);
        const assigned = e.fullUrl ? ids.get(e.fullUrl)?.split('/')[1] : undefined;
        return written(await this.resources.create(principal, resource, { ...write, ifNoneExist: e.ifNoneExist, id: assigned }, tx));
      }
      case 'PUT':
        if (!id) return written(await this.resources.conditionalUpdate(principal, type, query, resource, write, tx));
        return written(await this.resources.update(principal, type, id, resource, write, tx));
      case 'PATCH':
        throw new FhirError(400, 'not-supported', 'PATCH entries need a Binary JSON Patch body; use PATCH on the resource URL');
      case 'DELETE': {
        if (!id) throw badRequest('Conditional delete is not supported');
        await this.resources.delete(principal, type, id, write, tx);
        return '{"response":{"status":"204"}}';
      }
      default: {
        if (!id) return `{"resource":${await searchBundle(tx, principal, { type, params: new URLSearchParams(query), strict: false }, this.fhirBase)},"response":{"status":"200"}}`;
        if (sub === '_history' && vid === undefined) {
          return `{"resource":${await historyBundle(tx, principal, { type, id, params: new URLSearchParams(query) }, this.fhirBase)},"response":{"status":"200"}}`;
        }
        const stored = sub === '_history' ? await this.resources.vread(principal, type, id, vid!) : await this.resources.read(principal, type, id, tx);
        return writeResponse(stored, 200, this.fhirBase, e.method === 'GET');
      }
    }
  }
}

function writeResponse(stored: StoredVersion, status: number, fhirBase: string, withResource: boolean): string {
  const response = {
    status: String(status),
    location: `${fhirBase}/${stored.type}/${stored.id}/_history/${stored.version}`,
    etag: `W/"${stored.version}"`,
    lastModified: stored.lastUpdated,
  };
  const fullUrl = JSON.stringify(`${fhirBase}/${stored.type}/${stored.id}`);
  return withResource && stored.json
    ? `{"fullUrl":${fullUrl},"resource":${stored.json},"response":${JSON.stringify(response)}}`
    : `{"fullUrl":${fullUrl},"response":${JSON.stringify(response)}}`;
}

function parseBundle(body: unknown, fhirBase: string): { type: 'batch' | 'transaction'; entries: Entry[] } {
  const b = body as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') throw badRequest('POST to the base URL takes a Bundle', ['Bundle.resourceType']);
  if (b.type !== 'batch' && b.type !== 'transaction') throw badRequest(`Bundle.type must be batch or transaction, got '${String(b.type)}'`, ['Bundle.type']);
  if (b.entry !== undefined && !Array.isArray(b.entry)) throw badRequest('Bundle.entry must be an array', ['Bundle.entry']);
  const entries = ((b.entry ?? []) as Record<string, unknown>[]).map((raw, index): Entry => {
    const where = `Bundle.entry[${index}]`;
    const req = raw?.request as Record<string, unknown> | undefined;
    if (!req || typeof req.method !== 'string' || typeof req.url !== 'string') throw badRequest(`${where}.request needs a method and a url`, [`${where}.request`]);
    if (!(req.method in ORDER)) throw badRequest(`${where}.request.method '${req.method}' is not supported`, [`${where}.request.method`]);
    const resource = raw.resource as Record<string, unknown> | undefined;
    if ((req.method === 'POST' || req.method === 'PUT') && (!resource || typeof resource !== 'object')) {
      throw badRequest(`${where} (${req.method}) has no resource`, [`${where}.resource`]);
    }
    return {
      index,
      fullUrl: typeof raw.fullUrl === 'string' ? raw.fullUrl : undefined,
      resource,
      method: req.method as Method,
      url: localUrl(req.url, fhirBase, where),
      ifNoneExist: typeof req.ifNoneExist === 'string' ? req.ifNoneExist : undefined,
      ifMatch: typeof req.ifMatch === 'string' ? (/^(?:W\/)?"?([^"]+)"?$/.exec(req.ifMatch)?.[1] ?? req.ifMatch) : undefined,
    };
  });
  return { type: b.type, entries };
}

/** request.url is relative to the FHIR base; an absolute URL must be under this server's base. */
function localUrl(url: string, fhirBase: string, where: string): string {
  if (url.startsWith(`${fhirBase}/`)) return url.slice(fhirBase.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) throw badRequest(`${where}.request.url '${url}' is not on this server (${fhirBase})`, [`${where}.request.url`]);
  return url.replace(/^\//, '');
}

function splitUrl(url: string): { path: string; query: string } {
  const i = url.indexOf('?');
  return i < 0 ? { path: url, query: '' } : { path: url.slice(0, i), query: url.slice(i + 1) };
}

/** Rewrites `urn:uuid:` references to assigned ids and resolves conditional references (`Patient?identifier=…`). */
async function resolveReferences(tx: Queryable, principal: Principal, resource: Record<string, unknown>, ids: Map<string, string>, fhirBase: string): Promise<Record<string, unknown>> {
  const conditional: { holder: Record<string, unknown>; ref: string }[] = [];
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') {
        out[k] = ids.get(v) ?? v;
        if (/^[A-Z][A-Za-z]+\?/.test(v)) conditional.push({ holder: out, ref: v });
      } else out[k] = walk(v);
    }
    return out;
  };
  const rewritten = walk(resource) as Record<string, unknown>;
  for (const c of conditional) {
    const [type, query] = [c.ref.slice(0, c.ref.indexOf('?')), c.ref.slice(c.ref.indexOf('?') + 1)];
    if (!isResourceType(type)) throw badRequest(`Conditional reference to an unknown type: ${c.ref}`);
    const found = await matchIds(tx, principal, type, new URLSearchParams(query), fhirBase);
    if (found.length !== 1) throw new FhirError(412, found.length ? 'multiple-matches' : 'not-found', `Conditional reference ${c.ref} matched ${found.length} resources`);
    c.holder.reference = `${type}/${found[0]}`;
  }
  return rewritten;
}

function prefixEntry(err: unknown, entry: Entry): unknown {
  const fhirError = toFhirError(err);
  if (!fhirError) return err;
  const issues = fhirError.issues.map((i) => ({ ...i, diagnostics: `Bundle.entry[${entry.index}] (${entry.method} ${entry.url}): ${i.diagnostics}` }));
  return new FhirError(fhirError.status, issues[0]!.code, issues[0]!.diagnostics, { issues });
}
