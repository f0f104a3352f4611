// RFC 6750 Bearer credentials: reading `Authorization: Bearer <token>` and writing the WWW-Authenticate challenge.
import type { OAuthErrorCode } from './oauth-errors.ts';

/** The token of an `Authorization: Bearer` header (§2.1); undefined without one, '' when no token follows the scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer(?:\s+(.*))?$/i.exec(header?.trim() ?? '');
  return m ? (m[1] ?? '').trim() : undefined;
}

/** §3.1: without credentials the challenge carries no error code; with bad ones, `invalid_token`. */
export function challenge(realm: string, code?: OAuthErrorCode): string {
  return `Bearer realm="${realm}"${code === 'invalid_token' ? ', error="invalid_token"' : ''}`;
}
