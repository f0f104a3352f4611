// Audit records as FHIR R4 AuditEvents, shaped after the IHE Basic Audit Log Patterns (BALP 1.1): the interaction as
// type/subtype/action, the outcome, the user, the app and the server as agents, and the patient and the resource or
// query touched as entities. Pure: the HTTP adapters (fhir-audit.ts, auth-audit.ts) gather the facts.
// Never put a token, secret, password or client secret in a record: only ids (client_id, user id, jti) go in.
// @see https://profiles.ihe.net/ITI/BALP/ and http://hl7.org/fhir/R4/auditevent.html

export type RestInteraction =
  | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'history-system'
  | 'create' | 'search-type' | 'search-system' | 'batch' | 'transaction' | 'operation';

export type AuthEvent =
  | 'token-issued' | 'token-refreshed' | 'token-introspected' | 'token-revoked'
  | 'login-success' | 'login-failure' | 'consent-granted' | 'consent-revoked'
  | 'client-created' | 'client-updated' | 'client-secret-rotated' | 'client-deleted' | 'initial-access-token-issued' | 'admin-read'
  | 'launch-created' | 'user-created' | 'user-updated';

/** Who acted: the signed-in user (if any), through which app, from where. */
export interface AuditActor {
  /** The Firekeeper user id (`sub`). */
  userId?: string;
  /** `Practitioner/1`, `Patient/9`: the user's FHIR identity, when known. */
  fhirUser?: string;
  /** The user's display name. */
  userName?: string;
  /** A failed sign-in: the username that was tried (never the password). */
  attemptedUsername?: string;
  clientId?: string;
  /** The access token's `jti` (an id, not the token). */
  tokenId?: string;
  /** The client's network address. */
  address?: string;
}

interface RecordBase {
  /** The AuditEvent id: the request id (audit-event-id.ts), sent back as `X-Request-Id`. */
  id: string;
  /** ISO-8601 instant. */
  recorded: string;
  actor: AuditActor;
  /** The HTTP status of the response, and for a failure why (a message safe to show the client). */
  outcome: { status: number; description?: string };
  /** `Patient/123` references of the patients concerned. */
  patients: readonly string[];
}

/** One FHIR REST interaction under /fhir. */
export interface RestAuditRecord extends RecordBase {
  kind: 'rest';
  /** Undefined for a request that matched no FHIR interaction (an unknown endpoint). */
  interaction: RestInteraction | undefined;
  /** What was touched: `Type/id` or `Type/id/_history/v`. */
  target?: string;
  /** A search: the query string as received (without `?`), access_token and the like removed. */
  query?: string;
}

/** An authorization-server event. */
export interface AuthAuditRecord extends RecordBase {
  kind: 'auth';
  event: AuthEvent;
  /** Scopes granted, issued or revoked (not secret). */
  scope?: string;
  /** The jti of the access token issued or acted on. */
  jti?: string;
  /** The app whose registration was created, changed or deleted (the object of the event, not its actor). */
  subjectClientId?: string;
}

export type AuditRecord = RestAuditRecord | AuthAuditRecord;

export type Coding = { code: string; display?: string; system: string };
type Json = { [k: string]: unknown };

export interface AuditEventResource extends Json {
  resourceType: 'AuditEvent';
  id: string;
  recorded: string;
}

export const FIREKEEPER_SUBTYPE_SYSTEM = 'urn:firekeeper:audit-event-subtype';
export const CLIENT_ID_SYSTEM = 'urn:firekeeper:client-id';
export const USER_ID_SYSTEM = 'urn:firekeeper:user-id';
export const USERNAME_SYSTEM = 'urn:firekeeper:username';
const URI_SYSTEM = 'urn:ietf:rfc:3986';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const REST_TYPE: Coding = { code: 'rest', display: 'Restful Operation', system: 'http://terminology.hl7.org/CodeSystem/audit-event-type' };
const USER_AUTHENTICATION: Coding = { code: '110114', display: 'User Authentication', system: DCM };
const SECURITY_ALERT: Coding = { code: '110113', display: 'Security Alert', system: DCM };
const LOGIN: Coding = { code: '110122', display: 'Login', system: DCM };
const APPLICATION_ACTIVITY: Coding = { code: '110100', display: 'Application Activity', system: DCM };
// BALP agent types: the client is the Source Role ID when data flows to the server (query parameters, a created
// resource) and the Destination Role ID when it flows back (a read); the user is the information recipient.
const SOURCE_ROLE: Coding = { code: '110153', display: 'Source Role ID', system: DCM };
const DESTINATION_ROLE: Coding = { code: '110152', display: 'Destination Role ID', system: DCM };
const APPLICATION: Coding = { code: '110150', display: 'Application', system: DCM };
const USER_RECIPIENT: Coding = { code: 'IRCP', display: 'information recipient', system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' };
const USER_AUTHOR: Coding = { code: 'AUT', display: 'author (originator)', system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' };
const ENTITY_PERSON: Coding = { code: '1', display: 'Person', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' };
const ENTITY_SYSTEM_OBJECT: Coding = { code: '2', display: 'System Object', system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type' };
const ROLE_PATIENT: Coding = { code: '1', display: 'Patient', system: 'http://terminology.hl7.org/CodeSystem/object-role' };
const ROLE_DOMAIN_RESOURCE: Coding = { code: '4', display: 'Domain Resource', system: 'http://terminology.hl7.org/CodeSystem/object-role' };
const ROLE_SECURITY_RESOURCE: Coding = { code: '13', display: 'Security Resource', system: 'http://terminology.hl7.org/CodeSystem/object-role' };
const ROLE_QUERY: Coding = { code: '24', display: 'Query', system: 'http://terminology.hl7.org/CodeSystem/object-role' };
const X_REQUEST_ID: Coding = { code: 'XrequestId', display: 'transport specific unique identifier where http X-Request-Id is used', system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType' };
const SOURCE_APPLICATION_SERVER: Coding = { code: '4', display: 'Application Server', system: 'http://terminology.hl7.org/CodeSystem/security-source-type' };
const SOURCE_SECURITY_SERVER: Coding = { code: '6', display: 'Security Server', system: 'http://terminology.hl7.org/CodeSystem/security-source-type' };

// R4 valueset-audit-event-action: C create, R read/view/print, U update, D delete, E execute.
const REST_ACTION: Record<RestInteraction, 'C' | 'R' | 'U' | 'D' | 'E'> = {
  read: 'R', vread: 'R', 'history-instance': 'R', 'history-type': 'R', 'history-system': 'R',
  'search-type': 'E', 'search-system': 'E', create: 'C', update: 'U', patch: 'U', delete: 'D',
  batch: 'E', transaction: 'E', operation: 'E',
};
/** Interactions whose data flows from the server to the client (BALP Read): the client is the destination. */
const DATA_TO_CLIENT = new Set<RestInteraction>(['read', 'vread', 'history-instance', 'history-type', 'history-system']);

const AUTH_EVENTS: Record<AuthEvent, { type: Coding; display: string; action: 'C' | 'R' | 'U' | 'D' | 'E'; extra?: Coding }> = {
  'token-issued': { type: USER_AUTHENTICATION, display: 'Access token issued', action: 'E' },
  'token-refreshed': { type: USER_AUTHENTICATION, display: 'Access token refreshed', action: 'E' },
  'token-introspected': { type: USER_AUTHENTICATION, display: 'Token introspected', action: 'E' },
  'token-revoked': { type: USER_AUTHENTICATION, display: 'Token revoked', action: 'E' },
  'login-success': { type: USER_AUTHENTICATION, display: 'Sign-in succeeded', action: 'E', extra: LOGIN },
  'login-failure': { type: USER_AUTHENTICATION, display: 'Sign-in failed', action: 'E', extra: LOGIN },
  'consent-granted': { type: SECURITY_ALERT, display: 'App authorized by the user', action: 'C' },
  'consent-revoked': { type: SECURITY_ALERT, display: 'App authorization revoked by the user', action: 'D' },
  // The app registry is security configuration (DICOM 110113 Security Alert covers configuration changes).
  'client-created': { type: SECURITY_ALERT, display: 'App registered', action: 'C' },
  'client-updated': { type: SECURITY_ALERT, display: 'App registration changed', action: 'U' },
  'client-secret-rotated': { type: SECURITY_ALERT, display: 'App secret rotated', action: 'U' },
  'client-deleted': { type: SECURITY_ALERT, display: 'App registration deleted', action: 'D' },
  'initial-access-token-issued': { type: SECURITY_ALERT, display: 'Initial access token issued', action: 'C' },
  'admin-read': { type: SECURITY_ALERT, display: 'App registry read through the admin API', action: 'R' },
  'user-created': { type: SECURITY_ALERT, display: 'User account created', action: 'C' },
  'user-updated': { type: SECURITY_ALERT, display: 'User account or access policy changed', action: 'U' },
  // An EHR launch record: the app is about to be started in a patient's context (POST /launch).
  'launch-created': { type: APPLICATION_ACTIVITY, display: 'EHR launch created', action: 'C' },
};

/** R4 valueset-audit-event-outcome: 0 success, 4 minor failure (a 4xx), 8 serious failure (a 5xx). */
export function outcomeCode(status: number): '0' | '4' | '8' {
  return status >= 500 ? '8' : status >= 400 ? '4' : '0';
}

/** The server that records the events, named by its base URL. */
export interface AuditSource {
  baseUrl: string;
}

// Every object below lists its keys in sorted (RFC 8785) order, so that an event's plain JSON.stringify is its
// canonical JSON, which audit-log.ts hashes and stores without copying it (audit-chain.test.ts checks each kind).
// Optional members are assigned in that order rather than spread in (`...(x ? { k } : {})`): an event is built on
// every audited request, and the spreads made building it cost twice as much as serialising it (2026-12-06).
export function buildAuditEvent(record: AuditRecord, source: AuditSource): AuditEventResource {
  const parts = sourceParts(source);
  const head = record.kind === 'rest' ? restHead(record) : authHead(record);
  const entity = [transactionEntity(record.id)];
  addPatientEntities(entity, record.patients);
  if (record.kind === 'rest') addRestEntities(entity, record);
  else addAuthEntities(entity, record);
  const event: AuditEventResource = {
    action: head.action,
    agent: record.kind === 'rest' ? restAgents(record, parts) : authAgents(record),
    entity,
    id: record.id,
    meta: { lastUpdated: record.recorded, versionId: '1' },
    outcome: outcomeCode(record.outcome.status),
    outcomeDesc: safeText(record.outcome.description ? `HTTP ${record.outcome.status}: ${record.outcome.description}` : `HTTP ${record.outcome.status}`),
    recorded: record.recorded,
    resourceType: 'AuditEvent',
    source: record.kind === 'rest' ? parts.restSource : parts.authSource,
  };
  if (head.subtype) event.subtype = head.subtype;
  event.type = head.type;
  return event;
}

/** The members of an event that depend only on the server: made once per source, shared (frozen) by its events. */
interface SourceParts {
  restSource: Json;
  authSource: Json;
  /** The FHIR server as an agent, by its role (the client's opposite). */
  serverAs: Map<Coding, Json>;
}

const SOURCE_PARTS = new WeakMap<AuditSource, SourceParts>();

function sourceParts(source: AuditSource): SourceParts {
  let parts = SOURCE_PARTS.get(source);
  if (parts) return parts;
  const observer = { display: 'Firekeeper', identifier: { system: URI_SYSTEM, value: source.baseUrl } };
  const site = new URL(source.baseUrl).host;
  const fhirBase = `${source.baseUrl}/fhir`;
  const server = (role: Coding): Json => ({
    network: { address: fhirBase, type: '5' }, // 5: URI
    requestor: false,
    type: { coding: [role] },
    who: { display: 'Firekeeper FHIR server', identifier: { system: URI_SYSTEM, value: fhirBase } },
  });
  parts = deepFreeze({
    restSource: { observer, site, type: [SOURCE_APPLICATION_SERVER] },
    authSource: { observer, site, type: [SOURCE_SECURITY_SERVER] },
    serverAs: new Map([[SOURCE_ROLE, server(SOURCE_ROLE)], [DESTINATION_ROLE, server(DESTINATION_ROLE)]]),
  });
  SOURCE_PARTS.set(source, parts);
  return parts;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of value instanceof Map ? value.values() : Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

type Action = 'C' | 'R' | 'U' | 'D' | 'E';
interface Head { action: Action; subtype?: Coding[]; type: Coding }

/** One subtype array per interaction and per authorization event, shared by their events. */
const REST_SUBTYPES = new Map(Object.keys(REST_ACTION).map((code) => [code, deepFreeze([{ code, display: code, system: 'http://hl7.org/fhir/restful-interaction' }])]));
const AUTH_SUBTYPES = new Map(Object.entries(AUTH_EVENTS).map(([code, def]) => [code, deepFreeze([{ code, display: def.display, system: FIREKEEPER_SUBTYPE_SYSTEM }, ...(def.extra ? [def.extra] : [])])]));

function restHead(r: RestAuditRecord): Head {
  if (!r.interaction) return { action: 'E', type: REST_TYPE };
  return { action: REST_ACTION[r.interaction], subtype: REST_SUBTYPES.get(r.interaction)!, type: REST_TYPE };
}

function authHead(r: AuthAuditRecord): Head {
  const def = AUTH_EVENTS[r.event];
  return { action: def.action, subtype: AUTH_SUBTYPES.get(r.event)!, type: def.type };
}

function restAgents(r: RestAuditRecord, parts: SourceParts): Json[] {
  const user = userAgent(r.actor, r.interaction === 'create' || r.interaction === 'update' || r.interaction === 'patch' ? USER_AUTHOR : USER_RECIPIENT);
  const clientRole = r.interaction && DATA_TO_CLIENT.has(r.interaction) ? DESTINATION_ROLE : SOURCE_ROLE;
  const server = parts.serverAs.get(clientRole === SOURCE_ROLE ? DESTINATION_ROLE : SOURCE_ROLE)!;
  const client = clientAgent(r.actor, clientRole, !user);
  return user ? [user, client, server] : [client, server];
}

function authAgents(r: AuthAuditRecord): Json[] {
  const user = userAgent(r.actor, USER_RECIPIENT);
  const client = clientAgent(r.actor, APPLICATION, !user);
  return user ? [user, client] : [client];
}

/** The user: `who` is the fhirUser reference when known, else the Firekeeper user id. */
function userAgent(a: AuditActor, role: Coding): Json | undefined {
  if (!a.fhirUser && !a.userId && !a.attemptedUsername) return undefined;
  const agent: Json = {};
  if (a.attemptedUsername) agent.altId = safeText(a.attemptedUsername, 256);
  if (a.userName) agent.name = safeText(a.userName, 256);
  if (a.tokenId) agent.policy = [`urn:ietf:params:oauth:jti:${a.tokenId}`];
  agent.requestor = true;
  agent.type = { coding: [role] };
  if (a.fhirUser) agent.who = { reference: a.fhirUser };
  else if (a.userId) agent.who = { identifier: { system: USER_ID_SYSTEM, value: a.userId } };
  return agent;
}

/** The app, identified by its client_id, with the network address the request came from. */
function clientAgent(a: AuditActor, role: Coding, requestor: boolean): Json {
  const agent: Json = {};
  if (a.address) agent.network = { address: safeText(a.address, 256), type: '2' }; // 2: IP address
  if (a.tokenId && requestor) agent.policy = [`urn:ietf:params:oauth:jti:${a.tokenId}`];
  agent.requestor = requestor;
  agent.type = { coding: [role] };
  if (a.clientId) agent.who = { identifier: { system: CLIENT_ID_SYSTEM, value: safeText(a.clientId, 256) } };
  return agent;
}

/** BALP entity[transaction]: the request id, as sent back in X-Request-Id. */
function transactionEntity(id: string): Json {
  return { type: X_REQUEST_ID, what: { identifier: { type: X_REQUEST_ID_TYPE, value: id } } };
}
const X_REQUEST_ID_TYPE = deepFreeze({ coding: [X_REQUEST_ID] });

function addPatientEntities(out: Json[], patients: readonly string[]): void {
  patients.forEach((p, i) => {
    if (patients.indexOf(p) === i) out.push({ role: ROLE_PATIENT, type: ENTITY_PERSON, what: { reference: p } });
  });
}

function addRestEntities(out: Json[], r: RestAuditRecord): void {
  if (r.target) out.push({ role: ROLE_DOMAIN_RESOURCE, type: ENTITY_SYSTEM_OBJECT, what: { reference: r.target } });
  // BALP Query: the raw query, base64, so that exactly what was asked (malformed or malicious) is kept.
  if (r.query !== undefined) out.push({ query: Buffer.from(r.query, 'utf8').toString('base64'), role: ROLE_QUERY, type: ENTITY_SYSTEM_OBJECT });
}

function addAuthEntities(out: Json[], r: AuthAuditRecord): void {
  if (r.subjectClientId) {
    out.push({ role: ROLE_SECURITY_RESOURCE, type: ENTITY_SYSTEM_OBJECT, what: { identifier: { system: CLIENT_ID_SYSTEM, value: safeText(r.subjectClientId, 256) } } });
  }
  if (!r.jti && !r.scope) return;
  const token: Json = {};
  if (r.scope) token.detail = [{ type: 'scope', valueString: safeText(r.scope, 4000) }];
  token.role = ROLE_SECURITY_RESOURCE;
  token.type = ENTITY_SYSTEM_OBJECT;
  if (r.jti) token.what = { identifier: { value: `urn:ietf:params:oauth:jti:${r.jti}` } };
  out.push(token);
}

/**
 * Text from outside (an error message echoing input, a username) made safe to store and index: PostgreSQL's jsonb
 * refuses NUL and lone surrogates, and RFC 8785 canonical JSON refuses lone surrogates, so one bad character would
 * fail a whole batch of other requests' records. Long values are cut (index rows have a size limit).
 */
export function safeText(s: string, max = 1024): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/\u0000/g, '\uFFFD').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
