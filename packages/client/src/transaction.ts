// A FHIR transaction (or batch) Bundle, built entry by entry. New resources get `urn:uuid:` fullUrls that other
// entries can reference before the server assigns ids (R4 http.html#trules: the server rewrites them).
import type { Resource } from './fhir-client.ts';

export interface BundleEntryRequest {
  fullUrl?: string;
  resource?: Resource;
  request: { method: 'POST' | 'PUT' | 'DELETE' | 'GET'; url: string; ifMatch?: string; ifNoneExist?: string };
}

export interface TransactionBundle {
  resourceType: 'Bundle';
  type: 'transaction' | 'batch';
  entry: BundleEntryRequest[];
}

export class TransactionBuilder {
  readonly #entries: BundleEntryRequest[] = [];

  constructor(private readonly type: 'transaction' | 'batch' = 'transaction') {}

  /** Adds a create; returns the entry's `urn:uuid:` fullUrl, to use as a reference in other entries. */
  create(resource: Resource, o: { ifNoneExist?: string } = {}): string {
    const fullUrl = `urn:uuid:${crypto.randomUUID()}`;
    this.#entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ...(o.ifNoneExist ? { ifNoneExist: o.ifNoneExist } : {}) } });
    return fullUrl;
  }

  update(resource: Resource, o: { ifMatch?: string } = {}): this {
    if (!resource.id) throw new TypeError('update needs a resource with an id');
    this.#entries.push({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}`, ...(o.ifMatch ? { ifMatch: `W/"${o.ifMatch}"` } : {}) } });
    return this;
  }

  delete(type: string, id: string): this {
    this.#entries.push({ request: { method: 'DELETE', url: `${type}/${id}` } });
    return this;
  }

  build(): TransactionBundle {
    return { resourceType: 'Bundle', type: this.type, entry: [...this.#entries] };
  }
}
