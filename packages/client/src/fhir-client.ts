// FHIR R4 requests with a SMART access token: read, search (an async iterator over every page, following the
// Bundle's `next` links), create, update with `If-Match`, delete, transactions, and reference resolution. A 401 gets one fresh token and one retry; any other
// failure is a FhirError with the HTTP status and the server's OperationOutcome.
import type { FhirResource } from 'fhir/r4.js';
import type { TokenSource } from './backend-services.ts';
import { FhirError, type OperationOutcome } from './errors.ts';
import type { TransactionBundle } from './transaction.ts';
import { plainFetch } from './fetch.ts';

export interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  [field: string]: unknown;
}

/** What the typed helpers accept and return: any resource type, `Resource` or `fhir/r4`'s (`Patient`, …). */
export type AnyResource = { resourceType: string; id?: string };

/** The FHIR R4 type of a resource type's name (`'Patient'` → `Patient` of `fhir/r4`); `Resource` for other names. */
export type ResourceOf<K extends string> = K extends FhirResource['resourceType'] ? Extract<FhirResource, { resourceType: K }> : Resource;

interface Bundle {
  resourceType: 'Bundle';
  entry?: { resource?: Resource }[];
  link?: { relation: string; url: string }[];
}

/** A transaction-response or batch-response Bundle. */
export interface ResponseBundle {
  resourceType: 'Bundle';
  type: string;
  entry?: { resource?: Resource; response?: { status: string; location?: string; etag?: string } }[];
}

const FHIR_JSON = 'application/fhir+json';

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** The If-Match header for a version id (a weak ETag, as FHIR servers send them). */
const ifMatch = (versionId: string | undefined): Record<string, string> => (versionId ? { 'if-match': `W/"${versionId}"` } : {});

export class FhirClient {
  readonly fhirBase: string;

  private readonly fetchImpl: typeof fetch;

  constructor(fhirBase: string, private readonly tokens: TokenSource, fetchImpl?: typeof fetch) {
    this.fhirBase = fhirBase.replace(/\/+$/, '');
    this.fetchImpl = plainFetch(fetchImpl);
  }

  read<K extends string>(type: K, id: string): Promise<ResourceOf<K>> {
    return this.#json<ResourceOf<K>>('GET', `${type}/${encodeURIComponent(id)}`, `read ${type}/${id}`);
  }

  /** Every match, page after page (the server's `next` links), as resources of the searched type. */
  async *search<K extends string>(type: K, params: Record<string, string> | URLSearchParams = {}): AsyncGenerator<ResourceOf<K>> {
    let url: string | undefined = `${type}?${new URLSearchParams(params)}`;
    while (url) {
      const bundle: Bundle = await this.#json<Bundle>('GET', url, `search ${type}`);
      for (const e of bundle.entry ?? []) if (e.resource?.resourceType === type) yield e.resource as ResourceOf<K>;
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
  }

  /** Every match of a search, all pages read, as one array. */
  async searchAll<K extends string>(type: K, params: Record<string, string> | URLSearchParams = {}): Promise<ResourceOf<K>[]> {
    const all: ResourceOf<K>[] = [];
    for await (const resource of this.search(type, params)) all.push(resource);
    return all;
  }

  /** Creates the resource; the answer is the stored resource, with its id and meta. */
  create<T extends Resource>(resource: T): Promise<T & Resource> {
    return this.#json<T & Resource>('POST', resource.resourceType, `create ${resource.resourceType}`, resource);
  }

  /** Updates the resource; with `ifMatch` (a version id), only if that is still the current version (else 412). */
  update<T extends Resource>(resource: T, o: { ifMatch?: string } = {}): Promise<T & Resource> {
    if (!resource.id) throw new TypeError('update needs a resource with an id');
    const headers = ifMatch(o.ifMatch);
    return this.#json<T & Resource>('PUT', `${resource.resourceType}/${encodeURIComponent(resource.id)}`, `update ${resource.resourceType}/${resource.id}`, resource, headers);
  }

  /** Sends a transaction or batch Bundle (see TransactionBuilder); the answer is the response Bundle. */
  transaction(bundle: TransactionBundle): Promise<ResponseBundle> {
    return this.#json<ResponseBundle>('POST', '', bundle.type, bundle);
  }

  /**
   * The resource a reference names: `#id` in `from`'s contained resources; a `fullUrl` (`urn:uuid:…`, or an absolute
   * URL) or `Type/id` among `bundle`'s entries; else a relative `Type/id` (or an absolute URL under this server) read
   * from the server. Undefined for a contained or bundle-local reference that is not there.
   */
  async resolve<T extends AnyResource = Resource>(reference: string, o: { from?: Resource; bundle?: { entry?: { fullUrl?: string; resource?: Resource }[] } } = {}): Promise<T | undefined> {
    if (reference.startsWith('#')) {
      return ((o.from?.contained as Resource[] | undefined) ?? []).find((r) => r.id === reference.slice(1)) as T | undefined;
    }
    const local = o.bundle?.entry?.find((e) => e.fullUrl === reference || (e.resource && `${e.resource.resourceType}/${e.resource.id}` === reference));
    if (local?.resource) return local.resource as T;
    if (reference.startsWith('urn:')) return undefined;
    const relative = reference.startsWith(`${this.fhirBase}/`) ? reference.slice(this.fhirBase.length + 1) : reference;
    const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(relative);
    if (!m) throw new TypeError(`cannot resolve ${reference}: not a reference to this server`);
    return (await this.read(m[1]!, m[2]!)) as unknown as T;
  }

  /**
   * Applies an RFC 6902 JSON Patch to the resource (FHIR R4 §3.1.0.9.1); with `ifMatch`, only if that is still the
   * current version (else 412). The answer is the patched resource.
   */
  patch<K extends string>(type: K, id: string, operations: JsonPatchOperation[], o: { ifMatch?: string } = {}): Promise<ResourceOf<K>> {
    return this.#json<ResourceOf<K>>('PATCH', `${type}/${encodeURIComponent(id)}`, `patch ${type}/${id}`, operations, { 'content-type': 'application/json-patch+json', ...ifMatch(o.ifMatch) });
  }

  /** Deletes the resource; with `ifMatch`, only if that is still the current version (else 412). */
  async delete(type: string, id: string, o: { ifMatch?: string } = {}): Promise<void> {
    await this.#send('DELETE', `${type}/${encodeURIComponent(id)}`, `delete ${type}/${id}`, undefined, ifMatch(o.ifMatch));
  }

  async #json<T>(method: string, path: string, what: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return (await (await this.#send(method, path, what, body, headers)).json()) as T;
  }

  async #send(method: string, path: string, what: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const url = /^https?:/.test(path) ? path : path === '' ? this.fhirBase : `${this.fhirBase}/${path}`;
    const attempt = async (force: boolean) => this.fetchImpl(url, {
      method,
      headers: {
        accept: FHIR_JSON, authorization: `Bearer ${await this.tokens.accessToken(force)}`,
        ...(body === undefined ? {} : { 'content-type': FHIR_JSON, prefer: 'return=representation' }), ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let res = await attempt(false);
    if (res.status === 401) res = await attempt(true); // the token was revoked or expired early: one fresh try
    if (!res.ok) {
      const outcome = (await res.json().catch(() => undefined)) as OperationOutcome | undefined;
      throw new FhirError(res.status, outcome?.resourceType === 'OperationOutcome' ? outcome : undefined, what);
    }
    return res;
  }
}
