// The simulated EHR reads clinical data through Firekeeper's own FHIR API, like any app: as the built-in client
// `firekeeper-ehr`, with a short-lived `user/*.rs` access token for the signed-in user. So the user's access policy,
// the scopes and patients' privacy preferences apply to the EHR's pages exactly as to an app, and every read is in
// the audit trail under the user and the EHR. The requests go through the server's HTTP layer in-process
// (`inject`): the same routing, enforcement and audit as over the network, without a socket.
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../auth/key-ring.ts';
import { issueAccessToken } from '../auth/access-token.ts';
import type { User } from '../auth/users/user-store.ts';

export const EHR_CLIENT_ID = 'firekeeper-ehr';
const SCOPE = 'user/*.rs';
const TOKEN_LIFETIME_S = 300;
/** A cached token is used while it has at least this long to live. */
const MIN_REMAINING_MS = 60_000;

type Resource = Record<string, unknown> & { resourceType: string; id?: string };

/** One GET: its HTTP status, and the resource or searchset Bundle it returned (undefined on failure). */
export interface ReadResult {
  status: number;
  resource?: Resource;
}

export class EhrFhir {
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly keys: KeyRing,
    private readonly opts: { issuer: string; fhirBase: string },
  ) {}

  /**
   * Runs the GET requests (relative to the FHIR base, e.g. `Patient/1`) concurrently, results in order. Separate
   * requests rather than one batch Bundle: each is audited on its own, naming the patient it reads or searches.
   */
  async readAll(user: User, paths: readonly string[]): Promise<ReadResult[]> {
    const authorization = `Bearer ${await this.#token(user)}`;
    return Promise.all(paths.map(async (path) => {
      const res = await this.app.inject({ method: 'GET', url: `/fhir/${path}`, headers: { authorization, accept: 'application/fhir+json' } });
      return res.statusCode < 300 ? { status: res.statusCode, resource: JSON.parse(res.body) as Resource } : { status: res.statusCode };
    }));
  }

  async #token(user: User): Promise<string> {
    const cached = this.#tokens.get(user.id);
    if (cached && cached.expiresAt - Date.now() > MIN_REMAINING_MS) return cached.token;
    const issued = await issueAccessToken(this.keys, {
      issuer: this.opts.issuer, audience: this.opts.fhirBase, clientId: EHR_CLIENT_ID, subject: user.id, scope: SCOPE, lifetimeSeconds: TOKEN_LIFETIME_S,
      context: user.fhirUser ? { fhirUser: `${this.opts.fhirBase}/${user.fhirUser}` } : {},
    });
    this.#tokens.set(user.id, { token: issued.token, expiresAt: issued.expiresAt.getTime() });
    return issued.token;
  }
}
