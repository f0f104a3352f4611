// GET {base}/fhir/metadata: states exactly what this server implements (R4 capabilitystatement.html).
// Built once at start-up from the same registry that drives indexing and search.
import { getSearchParam, RESOURCE_TYPES, searchParamsFor } from './search-parameters.ts';
import { SUPPORTED_SEARCH_RESULT_PARAMS, supportedModifiers } from './search/search-service.ts';

export interface CapabilityOptions {
  fhirBase: string;
  softwareVersion: string;
  /** Extra `rest.security` content (added by the authorization server). */
  security?: Record<string, unknown>;
}

/** Parameters every resource type supports (R4 search.html#all), for `rest.searchParam`. */
const COMMON_PARAMS = [
  { name: '_id', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id', type: 'token' },
  { name: '_lastUpdated', definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated', type: 'date' },
  ...['_tag', '_profile', '_security', '_source'].map((code) => {
    const p = getSearchParam('Patient', code)!;
    return { name: code, definition: p.url, type: p.type };
  }),
];

const MODIFIERS = (['string', 'token', 'reference', 'date', 'number', 'quantity', 'uri'] as const)
  .map((type) => `${type} (${supportedModifiers(type).map((m) => `:${m}`).join(' ')})`)
  .join(', ');

const RESOURCE_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];

// The audit trail is written by the server alone and never changes: AuditEvent writes answer 405
// (resource-service.ts checkWritable) and its history 404 (fhir-routes.ts refuseAuditEventHistory).
const AUDIT_EVENT = {
  interaction: ['read', 'vread', 'search-type'].map((code) => ({ code })),
  versioning: 'versioned',
  readHistory: false,
  updateCreate: false,
  conditionalCreate: false,
  conditionalUpdate: false,
};

export function buildCapabilityStatement(opts: CapabilityOptions): Record<string, unknown> {
  const resource = RESOURCE_TYPES.map((type) => {
    const params = searchParamsFor(type);
    const references = params.filter((p) => p.type === 'reference');
    return {
      type,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: RESOURCE_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'not-supported',
      conditionalUpdate: true,
      conditionalDelete: 'not-supported',
      referencePolicy: ['literal', 'enforced', 'local'],
      searchInclude: references.map((p) => `${type}:${p.code}`),
      searchRevInclude: [] as string[],
      searchParam: [
        ...COMMON_PARAMS.slice(0, 2),
        ...params.map((p) => ({ name: p.code, definition: p.url, type: p.type, ...(p.documentation ? { documentation: p.documentation } : {}) })),
      ],
      ...(type === 'Patient' ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] } : {}),
      ...(type === 'AuditEvent' ? AUDIT_EVENT : {}),
    };
  });
  // Reverse includes: every reference parameter that can point at this type.
  const byTarget = new Map<string, string[]>();
  for (const type of RESOURCE_TYPES) {
    for (const p of searchParamsFor(type)) {
      if (p.type !== 'reference') continue;
      for (const target of p.targets) byTarget.set(target, [...(byTarget.get(target) ?? []), `${type}:${p.code}`]);
    }
  }
  for (const r of resource) r.searchRevInclude = byTarget.get(r.type) ?? [];

  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Firekeeper',
    kind: 'instance',
    software: { name: 'Firekeeper', version: opts.softwareVersion },
    implementation: { description: 'Firekeeper FHIR R4 server', url: opts.fhirBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json', 'application/json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        ...(opts.security ? { security: opts.security } : {}),
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'search-system' }, { code: 'history-system' }],
        searchParam: COMMON_PARAMS,
        documentation: `Search result parameters: ${SUPPORTED_SEARCH_RESULT_PARAMS.filter((p) => !COMMON_PARAMS.some((c) => c.name === p)).join(', ')}. Modifiers: ${MODIFIERS}.`,
        compartment: ['http://hl7.org/fhir/CompartmentDefinition/patient'],
      },
    ],
  };
}
