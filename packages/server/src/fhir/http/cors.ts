// CORS for the FHIR API (Fetch standard, "CORS protocol"): browser SMART apps call it from their own origins with
// the access token in the Authorization header. The API accepts no cookie or other ambient credential, so any origin
// may call it (`*`, never with Access-Control-Allow-Credentials): what a request sees is decided by its token alone.
// Preflights are answered before authentication and are not FHIR interactions (not audited).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer, X-Request-Id';
/** Response headers a FHIR client reads: where a created resource is, its version, why a token was refused. */
const EXPOSED_HEADERS = 'Location, Content-Location, ETag, Last-Modified, WWW-Authenticate, X-Request-Id';

export function installFhirCors(fhir: FastifyInstance): void {
  fhir.addHook('onSend', async (request, reply, payload) => {
    if (request.headers.origin !== undefined) reply.header('Access-Control-Allow-Origin', '*').header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    return payload;
  });
  const preflight = { config: { public: true } };
  const answer = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(204)
    .header('Access-Control-Allow-Methods', ALLOWED_METHODS).header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    .header('Access-Control-Max-Age', '600').send();
  fhir.options('/', preflight, answer);
  fhir.options('/*', preflight, answer);
}
