// Audit records of every kind the builder (audit/audit-event.ts) makes: each REST interaction and each
// authorization-server event, with actors from none to all fields, with and without patients, targets and queries.
import type { AuditRecord, AuthEvent, RestInteraction } from '../audit/audit-event.ts';

const actors = [
  {},
  { address: '::1' },
  { userId: 'u-1', clientId: 'app', tokenId: 'j-1', address: '10.0.0.1' },
  { userId: 'u-2', fhirUser: 'Practitioner/pr-1', userName: 'Dr. Émile Zola', clientId: 'app', address: '127.0.0.1' },
  { fhirUser: 'Patient/p-7', clientId: 'portal', tokenId: 'j-2' },
  { fhirUser: 'https://other.example/fhir/Patient/p-9', clientId: 'x' },
  { attemptedUsername: '  Mallory  ', address: '192.0.2.1' },
];

export function auditRecordsOfEveryKind(): AuditRecord[] {
  const base = { id: '00000000-0000-4000-8000-000000000001', recorded: '2026-11-22T10:00:00.123Z' };
  const out: AuditRecord[] = [];
  const interactions: (RestInteraction | undefined)[] = ['read', 'vread', 'search-type', 'search-system', 'create', 'update', 'patch', 'delete', 'batch', 'operation', undefined];
  const events: AuthEvent[] = [
    'token-issued', 'token-refreshed', 'token-introspected', 'token-revoked', 'login-success', 'login-failure', 'consent-granted', 'consent-revoked',
    'client-created', 'client-updated', 'client-secret-rotated', 'client-deleted', 'initial-access-token-issued', 'admin-read', 'launch-created',
    'user-created', 'user-updated',
  ];
  actors.forEach((actor, i) => {
    for (const interaction of interactions) {
      out.push({ ...base, kind: 'rest', interaction, actor, outcome: { status: [200, 201, 401, 403, 404, 500][i % 6]!, description: 'Unknown resource type' },
        patients: i % 2 ? ['Patient/p-1', 'Patient/p-2'] : [], target: i % 3 ? 'Observation/o-1/_history/3' : undefined, query: i % 2 ? 'patient=p-1' : undefined });
    }
    for (const event of events) out.push({ ...base, kind: 'auth', event, actor, outcome: { status: 200 }, patients: i % 2 ? ['Patient/p-3'] : [], scope: i % 3 ? 'launch patient/*.rs' : undefined, jti: i % 2 ? 'j-3' : undefined, subjectClientId: i % 3 === 1 ? 'other-app' : undefined });
  });
  return out;
}
