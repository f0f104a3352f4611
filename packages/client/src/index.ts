// @firekeeper/client: a SMART on FHIR client for browsers and Node 20 (issue 6). So far: discovery, the EHR and
// standalone launch (PKCE, state, nonce, id_token verification, refresh), SMART Backend Services (client_credentials
// with private_key_jwt), and FHIR requests with a token.
export { discover, type SmartConfiguration } from './discovery.ts';
export { BackendServicesClient, type AssertionAlgorithm, type BackendServicesOptions, type ClientKey, type TokenSource } from './backend-services.ts';
export { FhirClient, type AnyResource, type JsonPatchOperation, type Resource, type ResourceOf, type ResponseBundle } from './fhir-client.ts';
export { TransactionBuilder, type TransactionBundle } from './transaction.ts';
export { DiscoveryError, FhirError, TokenError, type OperationOutcome } from './errors.ts';
export {
  AuthorizationError, SmartSession, completeAuthorization, pendingKey, restoreSession, sessionKey, startAuthorization, type AuthorizationOptions, type LaunchContext, type TokenSet,
} from './smart-launch.ts';
export { MemoryStorage, WebStorage, type KeyValueStorage } from './storage.ts';
export { AUTHORIZATION_RESPONSE_MESSAGE, authorizeInWindow, notifyOpener, type WindowAuthorizationOptions } from './window-authorization.ts';
