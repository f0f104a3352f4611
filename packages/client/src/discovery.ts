// SMART discovery: what an app reads first, from the FHIR base URL it was given (`iss`).
// @see https://hl7.org/fhir/smart-app-launch/conformance.html (SMART App Launch 2.2 §Discovery)
import { DiscoveryError } from './errors.ts';

/** The fields of `.well-known/smart-configuration` this client uses (the document may hold more). */
export interface SmartConfiguration {
  issuer?: string;
  jwks_uri?: string;
  authorization_endpoint?: string;
  token_endpoint: string;
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  scopes_supported?: string[];
  code_challenge_methods_supported?: string[];
  capabilities?: string[];
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  [field: string]: unknown;
}

/** Reads `{iss}/.well-known/smart-configuration`; throws DiscoveryError, saying why, when it is missing or unusable. */
export async function discover(iss: string, fetchImpl: typeof fetch = fetch): Promise<SmartConfiguration> {
  const url = `${iss.replace(/\/+$/, '')}/.well-known/smart-configuration`;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { accept: 'application/json' } });
  } catch (err) {
    throw new DiscoveryError(`cannot reach ${url}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new DiscoveryError(`${iss} publishes no SMART configuration: GET ${url} answered HTTP ${res.status}`, res.status);
  let config: unknown;
  try {
    config = await res.json();
  } catch {
    throw new DiscoveryError(`${url} is not JSON`, res.status);
  }
  const c = config as Partial<SmartConfiguration> | null;
  if (typeof c !== 'object' || c === null || typeof c.token_endpoint !== 'string') {
    throw new DiscoveryError(`${url} has no token_endpoint`, res.status);
  }
  return c as SmartConfiguration;
}
