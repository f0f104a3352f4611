// application/x-www-form-urlencoded bodies (OAuth endpoints, HTML forms) parsed into URLSearchParams, which keeps
// repeated parameters visible (RFC 6749 §3.1 forbids them on OAuth requests; consent checkboxes repeat `scope`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from './oauth-errors.ts';

export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));
}

/** The form of an OAuth request: a form POST whose parameters are not repeated (RFC 6749 §3.2). */
export function oauthForm(request: FastifyRequest): URLSearchParams {
  if (!(request.body instanceof URLSearchParams)) throw new OAuthError('invalid_request', 'the request must be an application/x-www-form-urlencoded POST');
  const form = request.body;
  for (const [name] of form) {
    if (form.getAll(name).length > 1) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
  }
  return form;
}
