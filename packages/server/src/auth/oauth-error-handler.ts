// Renders the errors of an encapsulated OAuth plugin (admin API, registration endpoint) in one place: RFC 6749 §5.2
// JSON with Cache-Control: no-store; internal errors are logged and answered with a bare server_error.
import type { FastifyInstance } from 'fastify';
import { OAuthError, type OAuthErrorCode } from './oauth-errors.ts';
import { challenge } from './bearer.ts';

export interface OAuthErrorHandlerOptions {
  /** Names the plugin in the log. */
  name: string;
  /** RFC 6750 §3 realm of the WWW-Authenticate challenge sent with a 401. */
  realm: string;
  /** The code for a body the framework could not read (unparseable JSON, wrong media type, too large). */
  bodyErrorCode: OAuthErrorCode;
}

export function installOAuthErrorHandler(app: FastifyInstance, opts: OAuthErrorHandlerOptions): void {
  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    const oauth = err instanceof OAuthError ? err : status !== undefined && status >= 400 && status < 500 ? bodyError(opts.bodyErrorCode, status) : undefined;
    if (!oauth) request.log.error({ err }, `${opts.name} error`);
    const error = oauth ?? new OAuthError('server_error', 'internal error', 500);
    if (error.status === 401) reply.header('WWW-Authenticate', challenge(opts.realm, error.code));
    return reply.code(error.status).header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(error.toJSON());
  });
}

function bodyError(code: OAuthErrorCode, status: number): OAuthError {
  if (status === 413) return new OAuthError(code, 'the request body is too large', 413);
  if (status === 415) return new OAuthError(code, 'the request body must be application/json', 415);
  return new OAuthError(code, 'the request body must be a JSON object', 400);
}
