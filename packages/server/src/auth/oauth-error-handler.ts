// Renders the errors of an encapsulated OAuth plugin (token, introspection, revocation, userinfo, registration, admin
// API) in one place: RFC 6749 §5.2 JSON with Cache-Control: no-store; internal errors are logged and answered with a
// bare server_error. A 401 carries the error's own challenge (Basic for client authentication) or a Bearer one.
import type { FastifyInstance } from 'fastify';
import { OAuthError, type OAuthErrorCode } from './oauth-errors.ts';
import { challenge } from './bearer.ts';

export interface OAuthErrorHandlerOptions {
  /** Names the plugin in the log. */
  name: string;
  /** RFC 6750 §3 realm of the Bearer challenge sent with a 401 that has no challenge of its own. */
  realm: string;
  /** The code for a body the framework could not read (unparseable, wrong media type, too large). */
  bodyErrorCode: OAuthErrorCode;
  /** The media type the plugin's requests must have. */
  bodyType?: 'application/json' | 'application/x-www-form-urlencoded';
}

export function installOAuthErrorHandler(app: FastifyInstance, opts: OAuthErrorHandlerOptions): void {
  const bodyType = opts.bodyType ?? 'application/json';
  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    const oauth = err instanceof OAuthError ? err : status !== undefined && status >= 400 && status < 500 ? bodyError(opts.bodyErrorCode, status, bodyType) : undefined;
    if (!oauth) request.log.error({ err }, `${opts.name} error`);
    const error = oauth ?? new OAuthError('server_error', 'internal error', 500);
    for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    // RFC 6750 §3: a refused Bearer credential gets a Bearer challenge; a Basic one brings its own (RFC 6749 §5.2).
    if (error.status === 401 && error.code === 'invalid_token' && !error.headers['WWW-Authenticate']) reply.header('WWW-Authenticate', challenge(opts.realm, error.code));
    return reply.code(error.status).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(error.toJSON());
  });
}

function bodyError(code: OAuthErrorCode, status: number, bodyType: string): OAuthError {
  if (status === 413) return new OAuthError(code, 'the request body is too large', 413);
  // RFC 6749 §5.2: OAuth endpoints answer a malformed request with 400; the JSON APIs keep the precise 415.
  if (status === 415) return new OAuthError(code, `the request body must be ${bodyType}`, bodyType === 'application/json' ? 415 : 400);
  return new OAuthError(code, bodyType === 'application/json' ? 'the request body must be a JSON object' : `the request must be an ${bodyType} POST`, 400);
}
