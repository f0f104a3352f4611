// Discovery: {base}/fhir/.well-known/smart-configuration (SMART App Launch 2.2 §Conformance), the OpenID Provider
// metadata at {base}/.well-known/openid-configuration (issuer = {base}), and the CapabilityStatement's
// rest.security with the oauth-uris extension. All three are built once from the same endpoint table, so they agree
// exactly, and they list only what this server does (discovery.test.ts exercises each advertised item).
import type { FastifyInstance } from 'fastify';
import { AUTHORIZE_PATH } from './authorize-endpoint.ts';
import { CLIENT_ASSERTION_ALGS } from './clients/client-registration.ts';
import { ID_TOKEN_ALG } from './id-token.ts';
import { INTROSPECTION_PATH } from './introspection-endpoint.ts';
import { JWKS_PATH } from './jwks-endpoint.ts';
import { MANAGE_PATH } from './manage-endpoint.ts';
import { REGISTRATION_PATH } from './registration-endpoint.ts';
import { REVOCATION_PATH } from './revocation-endpoint.ts';
import { TOKEN_PATH } from './token-endpoint.ts';
import { USERINFO_PATH } from './userinfo-endpoint.ts';

export const SMART_CONFIGURATION_PATH = '/.well-known/smart-configuration';
export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server'; // RFC 8414 §3

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
const IDENTITY_SCOPES = ['openid', 'fhirUser', 'profile', 'email'];
const CONTEXT_SCOPES = ['launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access'];
const RESOURCE_SCOPES = ['patient/*.cruds', 'user/*.cruds', 'system/*.cruds', 'patient/*.rs', 'user/*.rs', 'system/*.rs', 'patient/*.read', 'user/*.read', 'system/*.read', 'patient/*.write', 'user/*.write', 'system/*.write'];

/** SMART App Launch 2.2 §Capability sets: what this server supports. */
export const CAPABILITIES = [
  'launch-ehr', 'launch-standalone', 'authorize-post',
  'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
  'sso-openid-connect',
  'context-passthrough-banner', 'context-passthrough-style',
  'context-ehr-patient', 'context-ehr-encounter', 'context-standalone-patient', 'context-standalone-encounter',
  'permission-offline', 'permission-online', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2',
];

export interface Endpoints {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint: string;
  token_endpoint: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  registration_endpoint: string;
  userinfo_endpoint: string;
  management_endpoint: string;
}

export function endpoints(baseUrl: string): Endpoints {
  return {
    issuer: baseUrl,
    jwks_uri: `${baseUrl}${JWKS_PATH}`,
    authorization_endpoint: `${baseUrl}${AUTHORIZE_PATH}`,
    token_endpoint: `${baseUrl}${TOKEN_PATH}`,
    introspection_endpoint: `${baseUrl}${INTROSPECTION_PATH}`,
    revocation_endpoint: `${baseUrl}${REVOCATION_PATH}`,
    registration_endpoint: `${baseUrl}${REGISTRATION_PATH}`,
    userinfo_endpoint: `${baseUrl}${USERINFO_PATH}`,
    management_endpoint: `${baseUrl}${MANAGE_PATH}`,
  };
}

export function smartConfiguration(baseUrl: string): Record<string, unknown> {
  return {
    ...endpoints(baseUrl),
    grant_types_supported: GRANT_TYPES,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    scopes_supported: [...IDENTITY_SCOPES, ...CONTEXT_SCOPES, ...RESOURCE_SCOPES],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    capabilities: CAPABILITIES,
  };
}

/** OpenID Connect Discovery 1.0 §3, with the RFC 8414 fields (introspection, revocation) generic clients look for. */
export function openidConfiguration(baseUrl: string): Record<string, unknown> {
  const { management_endpoint: _m, ...oauth } = endpoints(baseUrl);
  return {
    ...oauth,
    scopes_supported: [...IDENTITY_SCOPES, ...CONTEXT_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: GRANT_TYPES,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ID_TOKEN_ALG],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGS,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'fhirUser', 'name', 'email'],
    code_challenge_methods_supported: ['S256'],
    prompt_values_supported: ['none', 'login', 'consent'],
  };
}

/** CapabilityStatement.rest.security (SMART App Launch 2.2 §Conformance, oauth-uris extension). */
export function capabilitySecurity(baseUrl: string): Record<string, unknown> {
  const e = endpoints(baseUrl);
  const uri = (url: string, valueUri: string) => ({ url, valueUri });
  return {
    cors: true,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)' }],
    extension: [{
      url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
      extension: [
        uri('authorize', e.authorization_endpoint), uri('token', e.token_endpoint), uri('introspect', e.introspection_endpoint),
        uri('revoke', e.revocation_endpoint), uri('register', e.registration_endpoint), uri('manage', e.management_endpoint),
      ],
    }],
  };
}

function serveJson(app: FastifyInstance, path: string, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  app.get(path, { config: { public: true } }, (_request, reply) => reply
    .header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'public, max-age=300')
    .type('application/json; charset=utf-8').send(text));
}

/** Registered inside the /fhir prefix. */
export async function smartConfigurationEndpoint(app: FastifyInstance, opts: { baseUrl: string }): Promise<void> {
  serveJson(app, SMART_CONFIGURATION_PATH, smartConfiguration(opts.baseUrl));
}

export async function openidConfigurationEndpoint(app: FastifyInstance, opts: { baseUrl: string }): Promise<void> {
  serveJson(app, OPENID_CONFIGURATION_PATH, openidConfiguration(opts.baseUrl));
  serveJson(app, OAUTH_METADATA_PATH, openidConfiguration(opts.baseUrl));
}
