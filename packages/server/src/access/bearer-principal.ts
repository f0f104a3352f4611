// FHIR requests carry an access token (RFC 6750 §2.1 `Authorization: Bearer`); anything else is refused with 401
// and a `WWW-Authenticate: Bearer` challenge naming `invalid_token` (RFC 6750 §3.1) as an OperationOutcome.
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/bearer.ts';
import { InvalidTokenError, type AccessTokenVerifier } from '../auth/access-token-verifier.ts';
import { FhirError } from '../fhir/errors.ts';
import type { Principal } from './principal.ts';

export function bearerPrincipal(verifier: AccessTokenVerifier, realm: string): (request: FastifyRequest) => Promise<Principal> {
  const refuse = (description: string) => new FhirError(401, 'login', description, {
    headers: { 'WWW-Authenticate': `Bearer realm="${realm}", error="invalid_token", error_description="${description}"` },
  });
  return async (request) => {
    const header = request.headers.authorization;
    if (!header) throw refuse('an access token is required (Authorization: Bearer)');
    const token = bearerToken(header);
    if (!token) throw refuse('the Authorization header must be a Bearer token');
    try {
      return (await verifier.verify(token)).principal;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw refuse(err.message);
      throw err;
    }
  };
}
