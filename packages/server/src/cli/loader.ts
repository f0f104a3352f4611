// Loads FHIR data (Bundles and NDJSON) through the same transaction path as the REST API,
// so imported data is validated and indexed exactly like data written by clients.
import type { BundleService } from '../fhir/bundle-service.ts';
import { SYSTEM_PRINCIPAL } from '../access/principal.ts';

type Json = Record<string, unknown>;
type BundleEntry = { fullUrl?: string; resource?: Json; request?: Json };

/**
 * Resource types that Synthea-style exports copy into every patient bundle: when such an entry is a plain
 * POST and the resource has an identifier, it becomes a conditional create on that identifier, so loading
 * many bundles creates each Organization or Practitioner once.
 */
const SHARED_TYPES = new Set(['Organization', 'Practitioner', 'Location', 'PractitionerRole', 'Medication']);

export interface LoadSummary {
  bundles: number;
  entries: number;
  byType: Record<string, number>;
}

export class Loader {
  readonly summary: LoadSummary = { bundles: 0, entries: 0, byType: {} };

  constructor(private readonly bundles: BundleService) {}

  /** Loads one transaction, batch or collection Bundle (a collection is loaded as a transaction). */
  async loadBundle(bundle: Json): Promise<void> {
    if (bundle.resourceType !== 'Bundle') throw new Error(`expected a Bundle, got ${String(bundle.resourceType)}`);
    const entries = ((bundle.entry ?? []) as BundleEntry[]).map(toLoadEntry);
    const type = bundle.type === 'batch' ? 'batch' : 'transaction';
    const response = JSON.parse(await this.bundles.process(SYSTEM_PRINCIPAL, { resourceType: 'Bundle', type, entry: entries }, { returnResources: false })) as { entry?: { response?: { status?: string; outcome?: unknown } }[] };
    const failed = (response.entry ?? []).filter((e) => !/^2/.test(e.response?.status ?? ''));
    if (failed.length) throw new Error(`${failed.length} batch entries failed: ${JSON.stringify(failed[0]?.response?.outcome)}`);
    this.count(entries);
  }

  /** Loads NDJSON resources in transactions of `chunk` lines: PUT when the resource has an id, else POST. */
  async loadNdjson(text: string, chunk = 200): Promise<void> {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    for (let i = 0; i < lines.length; i += chunk) {
      const entry = lines.slice(i, i + chunk).map((line, j) => {
        let resource: Json;
        try {
          resource = JSON.parse(line) as Json;
        } catch {
          throw new Error(`line ${i + j + 1} is not valid JSON`);
        }
        return toLoadEntry({ resource });
      });
      await this.loadBundle({ resourceType: 'Bundle', type: 'transaction', entry });
    }
  }

  private count(entries: BundleEntry[]): void {
    this.summary.bundles++;
    for (const e of entries) {
      const type = String(e.resource?.resourceType ?? e.request?.method);
      this.summary.byType[type] = (this.summary.byType[type] ?? 0) + 1;
      this.summary.entries++;
    }
  }
}

function toLoadEntry(entry: BundleEntry): BundleEntry {
  const resource = entry.resource;
  if (!resource) return entry;
  const type = String(resource.resourceType);
  const request = entry.request ?? (typeof resource.id === 'string' ? { method: 'PUT', url: `${type}/${resource.id}` } : { method: 'POST', url: type });
  const identifier = (resource.identifier as { system?: string; value?: string }[] | undefined)?.find((i) => i.system && i.value);
  if (request.method === 'POST' && !request.ifNoneExist && SHARED_TYPES.has(type) && identifier) {
    return { ...entry, request: { ...request, ifNoneExist: `identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}` } };
  }
  return { ...entry, request };
}
