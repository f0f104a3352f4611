// OAuth errors: one typed value per wire error code, rendered as RFC 6749 §5.2 JSON (or a redirect, where the
// redirect URI is known to be valid) in one place by the authorization server's routes.

/** RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2 error codes. */
export type OAuthErrorCode =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type'
  | 'invalid_scope' | 'access_denied' | 'unsupported_response_type' | 'server_error' | 'temporarily_unavailable'
  | 'invalid_token' | 'insufficient_scope' | 'invalid_redirect_uri' | 'invalid_client_metadata';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    /** Response headers that belong to the error, e.g. `WWW-Authenticate` (RFC 6749 §5.2 for Basic). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

export const invalidClientMetadata = (description: string) => new OAuthError('invalid_client_metadata', description);
export const invalidRedirectUri = (description: string) => new OAuthError('invalid_redirect_uri', description);
