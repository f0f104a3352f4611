// Auditing of the FHIR REST API: an `onSend` hook on the /fhir plugin turns every response (successes and refusals
// alike: 401, 403, 404, 4xx, 5xx) into an AuditEvent and holds the response until that event is committed. If it
// cannot be committed, the client gets a bare 500 OperationOutcome instead of the data. The request id (a UUIDv7) is
// the AuditEvent's id and goes back as `X-Request-Id`. The public endpoints (the CapabilityStatement and the SMART
// discovery document, routes with `config.public`) reveal nothing about anyone and are not audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../access/principal.ts';
import { operationOutcome } from '../fhir/errors.ts';
import { isResourceType } from '../fhir/search-parameters.ts';
import { isValidId } from '../fhir/validation.ts';
import type { AuditActor, RestAuditRecord, RestInteraction } from './audit-event.ts';
import type { AuditLog } from './audit-log.ts';

/** What a route handler tells the audit about the resource it touched. */
export interface AuditEntity {
  /** `Type/id` or `Type/id/_history/v`. */
  reference?: string;
  /** The Patient compartments of the resource (`Patient/123`). */
  patients?: readonly string[];
}

export interface FhirAuditOptions {
  audit: AuditLog;
}

export function installFhirAudit(app: FastifyInstance, opts: FhirAuditOptions): void {
  const prefix = app.prefix;
  app.decorateRequest('auditEntity', null);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('X-Request-Id', request.id);
    if (request.routeOptions.config?.public) return payload; // CapabilityStatement, discovery: public, not audited
    try {
      await opts.audit.record(restRecord(request, reply, payload, prefix));
      return payload;
    } catch (err) {
      request.log.error({ err }, 'the audit record could not be committed; the response is withheld');
      return withheld(reply);
    }
  });
}

/** The response that replaces one whose audit record could not be committed: no data, no internals. */
function withheld(reply: FastifyReply): string {
  for (const h of ['etag', 'last-modified', 'location', 'content-location', 'content-length']) reply.removeHeader(h);
  reply.code(500).type('application/fhir+json; charset=utf-8');
  return JSON.stringify(operationOutcome([{ severity: 'fatal', code: 'exception', diagnostics: 'Internal server error' }]));
}

type Params = Record<string, string | undefined>;

function restRecord(request: FastifyRequest, reply: FastifyReply, payload: unknown, prefix: string): RestAuditRecord {
  const principal = (request as { principal?: Principal | null }).principal ?? undefined;
  const params = (request.params ?? {}) as Params;
  const url = request.routeOptions.url;
  const route = url === undefined ? undefined : url.slice(prefix.length) || '/';
  const interaction = restInteraction(request.method, route, params, request.body);
  const status = reply.statusCode;
  const launchPatient = principal?.launch.patient ? [`Patient/${principal.launch.patient}`] : [];
  const entity = request.auditEntity ?? undefined;
  const isSearch = interaction === 'search-type' || interaction === 'search-system' || interaction === 'operation';
  const query = isSearch ? searchQuery(request) : undefined;
  const patients = isSearch
    ? [...compartmentPatient(params), ...queryPatients(params.sub ?? params.type, query ?? ''), ...launchPatient]
    : launchPatient.length > 0 ? launchPatient : [...(entity?.patients ?? [])];
  return {
    kind: 'rest',
    id: request.id,
    recorded: new Date().toISOString(),
    interaction,
    actor: actorOf(request, principal),
    outcome: { status, ...(status >= 400 ? { description: errorDiagnostics(payload) } : {}) },
    patients,
    target: entity?.reference ?? (isSearch && interaction !== 'operation' ? undefined : targetOf(params)),
    query,
  };
}

// Absent facts are left undefined rather than spread out: the event builder skips them either way, and this runs
// on every request.
export function actorOf(request: FastifyRequest, principal: Principal | undefined): AuditActor {
  return { userId: principal?.userId, fhirUser: principal?.fhirUser, clientId: principal?.clientId, tokenId: principal?.tokenId, address: request.ip };
}

/** The FHIR interaction a route serves (R4 http.html; the codes of http://hl7.org/fhir/restful-interaction). */
export function restInteraction(method: string, route: string | undefined, params: Params, body: unknown): RestInteraction | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  switch (`${m} ${route}`) {
    case 'GET /': return 'search-system';
    case 'POST /': return (body as { type?: unknown } | undefined)?.type === 'transaction' ? 'transaction' : 'batch';
    case 'GET /_history': return 'history-system';
    case 'GET /:type':
    case 'POST /:type/_search': return 'search-type';
    case 'POST /:type': return 'create';
    case 'PUT /:type': return 'update';
    case 'GET /:type/_history': return 'history-type';
    case 'GET /:type/:id': return 'read';
    case 'PUT /:type/:id': return 'update';
    case 'PATCH /:type/:id': return 'patch';
    case 'DELETE /:type/:id': return 'delete';
    case 'GET /:type/:id/_history/:vid': return 'vread';
    case 'GET /:type/:id/:sub':
      return params.sub === '_history' ? 'history-instance' : params.sub?.startsWith('$') ? 'operation' : 'search-type';
    default: return undefined;
  }
}

/** The resource a request named in its URL, when it is a well-formed reference. */
function targetOf(params: Params): string | undefined {
  const { type, id, vid } = params;
  if (!type || !id || !isResourceType(type) || !isValidId(id)) return undefined;
  return vid !== undefined && isValidId(vid) ? `${type}/${id}/_history/${vid}` : `${type}/${id}`;
}

// Credentials never go into the trail, even when a client puts them in a URL (RFC 6750 §2.3 allows access_token).
// (`code` is not among them: it is a FHIR search parameter; authorization codes never go to /fhir.)
const SECRET_PARAMS = new Set(['access_token', 'client_secret', 'client_assertion', 'password', 'code_verifier', 'refresh_token']);

/** BALP Query: the query as received (a POST _search's form body appended), without credentials. */
function searchQuery(request: FastifyRequest): string {
  const url = request.url;
  const parts = url.includes('?') ? url.slice(url.indexOf('?') + 1).split('&') : [];
  if (request.body instanceof URLSearchParams) parts.push(...request.body.toString().split('&'));
  return parts.filter((p) => p !== '' && !SECRET_PARAMS.has(decodeName(p))).join('&');
}

function decodeName(pair: string): string {
  const name = pair.split('=')[0]!.split(':')[0]!;
  if (!name.includes('%') && !name.includes('+')) return name; // nothing to decode: most names, on every search
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** `/Patient/123/Observation` and `/Patient/123/$everything` are about Patient/123. */
function compartmentPatient(params: Params): string[] {
  return params.type === 'Patient' && params.id && isValidId(params.id) ? [`Patient/${params.id}`] : [];
}

const PATIENT_REF = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/;

/** The patients a search names: `patient=`, `subject=Patient/…`, or `_id=` on Patient. */
function queryPatients(type: string | undefined, query: string): string[] {
  const out: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) {
    const base = name.split(':')[0];
    const bareIdMeansPatient = base === 'patient' || (base === '_id' && type === 'Patient');
    if (base !== 'patient' && base !== 'subject' && !bareIdMeansPatient) continue;
    for (const v of value.split(',')) {
      const ref = PATIENT_REF.exec(v)?.[1] ?? (bareIdMeansPatient && isValidId(v) ? v : undefined);
      if (ref) out.push(`Patient/${ref}`);
    }
  }
  return out;
}

/** The first issue's diagnostics of an OperationOutcome payload (messages written for the client, so safe to keep). */
function errorDiagnostics(payload: unknown): string | undefined {
  if (typeof payload !== 'string' || !payload.startsWith('{')) return undefined;
  try {
    const diagnostics = (JSON.parse(payload) as { issue?: { diagnostics?: unknown }[] }).issue?.[0]?.diagnostics;
    return typeof diagnostics === 'string' ? diagnostics : undefined;
  } catch {
    return undefined;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a FHIR route handler: the resource it touched, for the audit record. */
    auditEntity: AuditEntity | null;
  }
}
