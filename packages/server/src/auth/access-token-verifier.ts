// Turns a Bearer access token into the request principal (docs/architecture: "Every request carries a
// principal"). Tokens are verified locally (signature, issuer, audience, type, expiry); the result is cached by
// token for its lifetime, and the revocation list is checked on every use.
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { LaunchContext, Principal } from '../access/principal.ts';
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYPE } from './access-token.ts';
import type { KeyRing } from './key-ring.ts';
import type { RevocationList } from './revocation-list.ts';

const CACHE_LIMIT = 10_000;
const CLOCK_TOLERANCE_S = 5;

/** Why a token was refused (RFC 6750 §3.1 `invalid_token`); the message is safe to send to the client. */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export interface VerifiedToken {
  principal: Principal;
  claims: JWTPayload;
  expiresAt: number;
}

export class AccessTokenVerifier {
  #cache = new Map<string, VerifiedToken>();

  constructor(
    private readonly keys: KeyRing,
    private readonly revocations: RevocationList,
    private readonly opts: { issuer: string; audience: string },
  ) {}

  /** The token's principal; throws InvalidTokenError for a malformed, foreign, expired or revoked token. */
  async verify(token: string): Promise<VerifiedToken> {
    let verified = this.#cache.get(token);
    if (!verified) {
      verified = await this.#verify(token);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(token, verified);
    }
    if (verified.expiresAt <= Date.now()) {
      this.#cache.delete(token);
      throw new InvalidTokenError('the access token has expired');
    }
    if (this.revocations.isRevoked(verified.claims.jti!)) throw new InvalidTokenError('the access token has been revoked');
    return verified;
  }

  async #verify(token: string): Promise<VerifiedToken> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys.verificationKey, {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        typ: ACCESS_TOKEN_TYPE,
        algorithms: [ACCESS_TOKEN_ALG],
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw new InvalidTokenError(reason(err));
    }
    if (typeof claims.client_id !== 'string' || typeof claims.scope !== 'string') throw new InvalidTokenError('the access token lacks client_id or scope');
    return { principal: principalOf(claims, this.opts.audience), claims, expiresAt: claims.exp! * 1000 };
  }
}

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the access token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the access token's ${err.claim} claim is not valid for this server`;
  return 'the access token is not a valid token issued by this server';
}

function principalOf(claims: JWTPayload, fhirBase: string): Principal {
  const clientId = claims.client_id as string;
  const isClient = claims.sub === clientId && claims.fhirUser === undefined;
  const launch: LaunchContext = {};
  if (typeof claims.patient === 'string') launch.patient = claims.patient;
  if (typeof claims.encounter === 'string') launch.encounter = claims.encounter;
  if (Array.isArray(claims.fhirContext)) launch.fhirContext = claims.fhirContext as LaunchContext['fhirContext'];
  return Object.freeze({
    kind: isClient ? 'client' : 'user',
    clientId,
    // Tokens carry fhirUser as an absolute URL; the principal holds the relative reference (Practitioner/123).
    ...(typeof claims.fhirUser === 'string' ? { fhirUser: claims.fhirUser.replace(`${fhirBase}/`, '') } : {}),
    ...(isClient ? {} : { userId: claims.sub }),
    scopes: Object.freeze((claims.scope as string).split(' ').filter(Boolean)),
    launch,
    tokenId: claims.jti,
  });
}
