// The FHIR REST API at {base}/fhir (R4 http.html). Routes only adapt HTTP to the services.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../access/principal.ts';
import type { ResourceService } from '../resource-service.ts';
import type { BundleService } from '../bundle-service.ts';
import type { StoredVersion } from '../../store/repository.ts';
import { FhirError, badRequest, notFound } from '../errors.ts';
import { historyBundle } from '../history.ts';
import { everything, searchBundle } from '../search/search-service.ts';
import { isResourceType } from '../search-parameters.ts';
import { checkAcceptable, parseIfMatch, parsePrefer } from './negotiation.ts';
import { sendJson, sendResource, sendWriteResult } from './respond.ts';

export interface FhirRoutesOptions {
  resources: ResourceService;
  bundles: BundleService;
  /** `${baseUrl}/fhir` */
  fhirBase: string;
  capabilityStatement: () => string;
  /** Resolves the request's principal (the authorization layer replaces the sandbox default). */
  principal: (request: FastifyRequest) => Principal | Promise<Principal>;
}

type Params = { type: string; id: string; sub: string; vid: string };
type Req = FastifyRequest<{ Params: Params; Querystring: Record<string, string> }>;

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

export async function fhirRoutes(app: FastifyInstance, opts: FhirRoutesOptions): Promise<void> {
  const { resources, bundles, fhirBase } = opts;
  const db = resources.db;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_TYPES, 'application/json-patch+json'], { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined); // e.g. a DELETE sent with a JSON content type
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new FhirError(400, 'structure', 'The request body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    checkAcceptable(request.headers.accept, query._format);
    if (!request.routeOptions.config.public) request.principal = await opts.principal(request);
  });

  const ctx = (request: Req) => {
    const url = request.url;
    const qs = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
    const params = new URLSearchParams(qs);
    const prefer = parsePrefer(headerValue(request.headers.prefer));
    return { params, prefer, pretty: params.get('_pretty') === 'true', principal: request.principal };
  };
  const typeOf = (request: Req): string => {
    const { type } = request.params;
    if (!isResourceType(type)) throw new FhirError(404, 'not-supported', `Unknown resource type '${type}'`);
    return type;
  };
  /** Tells the audit record which resource version the interaction touched and whose compartments it is in. */
  const touched = (request: Req, stored: StoredVersion | undefined, type: string, id: string): void => {
    request.auditEntity = stored
      ? { reference: `${stored.type}/${stored.id}/_history/${stored.version}`, patients: stored.compartments }
      : { reference: `${type}/${id}` };
  };
  const requireJsonBody = (request: Req, patch = false) => {
    const ct = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const ok = patch ? ct === 'application/json-patch+json' : JSON_TYPES.includes(ct);
    if (!ok) throw new FhirError(415, 'not-supported', patch ? 'PATCH requires application/json-patch+json' : 'Send the resource as application/fhir+json');
    return request.body;
  };

  app.get('/metadata', { config: { public: true } }, async (request: Req, reply) => sendJson(reply, 200, opts.capabilityStatement(), ctx(request).pretty));

  // System level: batch/transaction, history, search.
  app.post('/', async (request: Req, reply) => {
    const c = ctx(request);
    const result = await bundles.process(c.principal, requireJsonBody(request));
    return sendJson(reply, 200, result, c.pretty);
  });
  app.get('/_history', async (request: Req, reply) => {
    const c = ctx(request);
    return sendJson(reply, 200, await historyBundle(db, c.principal, { params: c.params }, fhirBase), c.pretty);
  });
  app.get('/', async (request: Req, reply) => {
    const c = ctx(request);
    return sendJson(reply, 200, await searchBundle(db, c.principal, { params: c.params, strict: c.prefer.strict }, fhirBase), c.pretty);
  });

  // Type level.
  const search = async (request: Req, reply: FastifyReply, c: ReturnType<typeof ctx>) => {
    const body = await searchBundle(db, c.principal, { type: typeOf(request), params: c.params, strict: c.prefer.strict }, fhirBase);
    return sendJson(reply, 200, body, c.pretty);
  };
  app.get('/:type', async (request: Req, reply) => search(request, reply, ctx(request)));
  app.post('/:type/_search', async (request: Req, reply) => {
    const ct = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (ct !== 'application/x-www-form-urlencoded') throw new FhirError(415, 'not-supported', 'POST _search takes application/x-www-form-urlencoded');
    const c = ctx(request);
    for (const [k, v] of request.body as URLSearchParams) c.params.append(k, v);
    return search(request, reply, c);
  });
  app.post('/:type', async (request: Req, reply) => {
    const c = ctx(request);
    const type = typeOf(request);
    const body = requireJsonBody(request) as { resourceType?: unknown };
    if (body && typeof body === 'object' && body.resourceType !== type) {
      throw badRequest(`resourceType '${String(body.resourceType)}' does not match the URL's type '${type}'`, ['resourceType']);
    }
    const ifNoneExist = request.headers['if-none-exist'];
    const result = await resources.create(c.principal, body, { ifNoneExist: typeof ifNoneExist === 'string' ? ifNoneExist : undefined });
    touched(request, result.stored, type, result.stored.id);
    const location = `${fhirBase}/${type}/${result.stored.id}/_history/${result.stored.version}`;
    return sendWriteResult(reply, { ...result, prefer: c.prefer.return, pretty: c.pretty, location });
  });
  app.put('/:type', async (request: Req, reply) => {
    const c = ctx(request);
    const type = typeOf(request);
    const query = c.params;
    query.delete('_format');
    query.delete('_pretty');
    const result = await resources.conditionalUpdate(c.principal, type, query.toString(), requireJsonBody(request), { ifMatch: parseIfMatch(request.headers['if-match']) });
    touched(request, result.stored, type, result.stored.id);
    const location = `${fhirBase}/${type}/${result.stored.id}/_history/${result.stored.version}`;
    return sendWriteResult(reply, { ...result, prefer: c.prefer.return, pretty: c.pretty, location });
  });
  app.get('/:type/_history', async (request: Req, reply) => {
    const c = ctx(request);
    refuseAuditEventHistory(typeOf(request));
    return sendJson(reply, 200, await historyBundle(db, c.principal, { type: typeOf(request), params: c.params }, fhirBase), c.pretty);
  });

  // Instance level.
  app.get('/:type/:id', async (request: Req, reply) => {
    const c = ctx(request);
    const stored = await resources.read(c.principal, typeOf(request), request.params.id);
    touched(request, stored, stored.type, stored.id);
    return sendResource(reply, stored, 200, c.pretty);
  });
  app.put('/:type/:id', async (request: Req, reply) => {
    const c = ctx(request);
    const type = typeOf(request);
    const result = await resources.update(c.principal, type, request.params.id, requireJsonBody(request), { ifMatch: parseIfMatch(request.headers['if-match']) });
    touched(request, result.stored, type, request.params.id);
    const location = result.status === 201 ? `${fhirBase}/${type}/${result.stored.id}/_history/${result.stored.version}` : undefined;
    return sendWriteResult(reply, { ...result, prefer: c.prefer.return, pretty: c.pretty, location });
  });
  app.patch('/:type/:id', async (request: Req, reply) => {
    const c = ctx(request);
    const result = await resources.patch(c.principal, typeOf(request), request.params.id, requireJsonBody(request, true), { ifMatch: parseIfMatch(request.headers['if-match']) });
    touched(request, result.stored, result.stored.type, request.params.id);
    return sendWriteResult(reply, { ...result, prefer: c.prefer.return, pretty: c.pretty });
  });
  app.delete('/:type/:id', async (request: Req, reply) => {
    const c = ctx(request);
    const type = typeOf(request);
    const deleted = await resources.delete(c.principal, type, request.params.id, { ifMatch: parseIfMatch(request.headers['if-match']) });
    touched(request, deleted, type, request.params.id);
    if (deleted?.deleted) reply.header('ETag', `W/"${deleted.version}"`);
    return reply.code(204).send();
  });
  app.get('/:type/:id/:sub', async (request: Req, reply) => {
    const c = ctx(request);
    const type = typeOf(request);
    const { id, sub } = request.params;
    if (sub === '_history') {
      refuseAuditEventHistory(type);
      await resources.read(c.principal, type, id).catch((err: unknown) => {
        if (!(err instanceof FhirError && err.status === 410)) throw err; // a deleted resource still has history
      });
      return sendJson(reply, 200, await historyBundle(db, c.principal, { type, id, params: c.params }, fhirBase), c.pretty);
    }
    if (type !== 'Patient') throw new FhirError(404, 'not-supported', `Compartment searches are supported for Patient only`);
    await resources.read(c.principal, 'Patient', id);
    if (sub === '$everything') return sendJson(reply, 200, await everything(db, c.principal, id, c.params, fhirBase), c.pretty);
    if (!isResourceType(sub)) throw new FhirError(404, 'not-supported', `Unknown resource type or operation '${sub}'`);
    const body = await searchBundle(db, c.principal, { type: sub, params: c.params, strict: c.prefer.strict, compartment: { type: 'Patient', id } }, fhirBase);
    return sendJson(reply, 200, body, c.pretty);
  });
  app.get('/:type/:id/_history/:vid', async (request: Req, reply) => {
    const c = ctx(request);
    const { id, vid } = request.params;
    const type = typeOf(request);
    const stored = type === 'AuditEvent' ? await auditEventVersion(c.principal, id, vid) : await resources.vread(c.principal, type, id, vid);
    touched(request, stored, type, id);
    return sendResource(reply, stored, 200, c.pretty);
  });

  // AuditEvents are written once and never change, so they have no history rows (system history would fill with
  // them): their only version, 1, is the current row, and their history is refused rather than shown empty.
  async function auditEventVersion(principal: Principal, id: string, vid: string): Promise<StoredVersion> {
    const stored = await resources.read(principal, 'AuditEvent', id);
    if (vid !== String(stored.version)) throw notFound(`AuditEvent/${id}/_history/${vid} is not known`);
    return stored;
  }
}

function refuseAuditEventHistory(type: string): void {
  if (type === 'AuditEvent') throw new FhirError(404, 'not-supported', 'AuditEvents are append-only and have no history; search them with GET AuditEvent?…');
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Served without an access token (the CapabilityStatement, discovery). */
    public?: boolean;
  }
}
