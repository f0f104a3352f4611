// Writing FHIR responses: resource headers (ETag, Last-Modified, Location) and `Prefer: return`.
import type { FastifyReply } from 'fastify';
import type { StoredVersion } from '../../store/repository.ts';
import { operationOutcome } from '../errors.ts';
import { FHIR_JSON, type ReturnPreference } from './negotiation.ts';

export function versionHeaders(reply: FastifyReply, v: Pick<StoredVersion, 'version' | 'lastUpdated'>): void {
  reply.header('ETag', `W/"${v.version}"`);
  reply.header('Last-Modified', new Date(v.lastUpdated).toUTCString());
}

/** Sends JSON text as application/fhir+json; `_pretty=true` re-indents it. */
export function sendJson(reply: FastifyReply, status: number, json: string, pretty: boolean): FastifyReply {
  return reply
    .code(status)
    .type(`${FHIR_JSON}; charset=utf-8`)
    .send(pretty ? JSON.stringify(JSON.parse(json), null, 2) : json);
}

export function sendResource(reply: FastifyReply, stored: StoredVersion, status: number, pretty: boolean): FastifyReply {
  versionHeaders(reply, stored);
  return sendJson(reply, status, stored.json!, pretty);
}

/** The reply to a create/update/patch: headers always, body by `Prefer: return` (R4 http.html#ops). */
export function sendWriteResult(
  reply: FastifyReply,
  opts: { stored: StoredVersion; status: number; prefer: ReturnPreference; pretty: boolean; location?: string },
): FastifyReply {
  const { stored, status, prefer, pretty } = opts;
  versionHeaders(reply, stored);
  if (opts.location) reply.header('Location', opts.location);
  if (prefer === 'minimal') return reply.code(status).send();
  if (prefer === 'OperationOutcome') {
    const outcome = operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `${stored.type}/${stored.id} version ${stored.version} stored` }]);
    return sendJson(reply, status, JSON.stringify(outcome), pretty);
  }
  return sendJson(reply, status, stored.json!, pretty);
}
