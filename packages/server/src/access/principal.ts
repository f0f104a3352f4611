// The request principal: who is acting, through which app, with which grant and launch context.
// Every repository function takes one; there is no path to clinical data without it
// (docs/architecture: "Every request carries a principal").

export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: { reference?: string; canonical?: string; identifier?: unknown; type?: string; role?: string }[];
}

export interface Principal {
  /** `system`: the server itself (seeding, import, migrations); `user`: an app acting for a signed-in user;
   * `client`: a backend service acting for itself (client_credentials). */
  kind: 'system' | 'user' | 'client';
  /** The Firekeeper user id (`sub`), for `user` principals. */
  userId?: string;
  /** `Practitioner/123`, `Patient/9`… (OpenID `fhirUser`). */
  fhirUser?: string;
  clientId?: string;
  /** Granted scopes, as strings; parsed and enforced by the access layer. */
  scopes: readonly string[];
  launch: LaunchContext;
  tokenId?: string;
}

/** The server acting on its own behalf: loaders, seeders, internal jobs. */
export const SYSTEM_PRINCIPAL: Principal = Object.freeze({ kind: 'system', scopes: ['system/*.*'], launch: {} });

