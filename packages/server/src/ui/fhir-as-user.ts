// Firekeeper's own pages (the simulated EHR, the patient portal) reach clinical data through the FHIR API, like any
// app: as a built-in client (`firekeeper-ehr`, `firekeeper-portal`), with a short-lived access token for the
// signed-in user. So the user's access policy, the scopes and patients' privacy preferences apply to those pages
// exactly as to an app, and every request is in the audit trail under the user and the built-in client. The requests
// go through the server's HTTP layer in-process (`inject`): the same routing, enforcement and audit as over the
// network, without a socket.
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../auth/key-ring.ts';
import { issueAccessToken } from '../auth/access-token.ts';
import type { User } from '../auth/users/user-store.ts';

const TOKEN_LIFETIME_S = 300;
/** A cached token is used while it has at least this long to live. */
const MIN_REMAINING_MS = 60_000;

type Resource = Record<string, unknown> & { resourceType: string; id?: string };

/** One GET: its HTTP status, and the resource or searchset Bundle it returned (undefined on failure). */
export interface ReadResult {
  status: number;
  resource?: Resource;
}

export interface FhirAsUserOptions {
  issuer: string;
  fhirBase: string;
  /** The built-in client the requests are made as. */
  clientId: string;
  /** The scopes of its tokens (the user's access policy narrows them further). */
  scope: string;
}

export class FhirAsUser {
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly keys: KeyRing,
    private readonly opts: FhirAsUserOptions,
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

  /** A write (POST, PUT or DELETE of a resource); its status, and the resource or OperationOutcome answered. */
  async write(user: User, method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<ReadResult> {
    const res = await this.app.inject({
      method, url: `/fhir/${path}`, payload: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${await this.#token(user)}`, accept: 'application/fhir+json', ...(body === undefined ? {} : { 'content-type': 'application/fhir+json', prefer: 'return=representation' }) },
    });
    return { status: res.statusCode, ...(res.body ? { resource: JSON.parse(res.body) as Resource } : {}) };
  }

  async #token(user: User): Promise<string> {
    const cached = this.#tokens.get(user.id);
    if (cached && cached.expiresAt - Date.now() > MIN_REMAINING_MS) return cached.token;
    const issued = await issueAccessToken(this.keys, {
      issuer: this.opts.issuer, audience: this.opts.fhirBase, clientId: this.opts.clientId, subject: user.id, scope: this.opts.scope, lifetimeSeconds: TOKEN_LIFETIME_S,
      context: user.fhirUser ? { fhirUser: `${this.opts.fhirBase}/${user.fhirUser}` } : {},
    });
    this.#tokens.set(user.id, { token: issued.token, expiresAt: issued.expiresAt.getTime() });
    return issued.token;
  }
}
