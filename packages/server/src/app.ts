// Composes the Firekeeper server from one Fastify plugin per domain. `buildApp` does not listen;
// the CLI does (and tests use `inject` or listen on an ephemeral port).
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './store/database.ts';
import { bearerPrincipal } from './access/bearer-principal.ts';
import { ResourceService } from './fhir/resource-service.ts';
import { BundleService } from './fhir/bundle-service.ts';
import { buildCapabilityStatement } from './fhir/capability-statement.ts';
import { fhirRoutes } from './fhir/http/fhir-routes.ts';
import { installFhirErrorHandlers } from './fhir/http/error-handler.ts';
import { VERSION } from './version.ts';
import { newAuditEventId } from './audit/audit-event-id.ts';
import { ensureSigningKeys } from './auth/signing-keys.ts';
import { jwksEndpoint } from './auth/jwks-endpoint.ts';
import { tokenEndpoint } from './auth/token-endpoint.ts';
import { launchApi } from './ehr/launch-api.ts';
import { FhirAsUser } from './ui/fhir-as-user.ts';
import { EHR_CLIENT_ID } from './ehr/ehr-pages.ts';
import { ehrRoutes } from './ehr/ehr-routes.ts';
import { portalRoutes } from './portal/portal-routes.ts';
import { adminConsole } from './admin/admin-console.ts';
import { usersConsole } from './admin/users-console.ts';
import { ADMIN_CLIENT_ID } from './admin/admin-pages.ts';
import { PORTAL_CLIENT_ID } from './portal/portal-pages.ts';
import { adminApi, ADMIN_API_PREFIX } from './auth/admin-api.ts';
import { registrationEndpoint } from './auth/registration-endpoint.ts';
import { KeyRing } from './auth/key-ring.ts';
import { RevocationList } from './auth/revocation-list.ts';
import { AccessTokenVerifier } from './auth/access-token-verifier.ts';
import { authorizeEndpoint } from './auth/authorize-endpoint.ts';
import { Sessions } from './auth/session.ts';
import { registerWeb } from './ui/web.ts';
import { installFhirCors } from './fhir/http/cors.ts';
import { homePage } from './ui/home-page.ts';
import { tokenInspector } from './ui/token-inspector.ts';
import { capabilitySecurity, openidConfigurationEndpoint, smartConfigurationEndpoint } from './auth/discovery.ts';
import { introspectionEndpoint } from './auth/introspection-endpoint.ts';
import { revocationEndpoint } from './auth/revocation-endpoint.ts';
import { userinfoEndpoint } from './auth/userinfo-endpoint.ts';
import { manageEndpoint } from './auth/manage-endpoint.ts';
import { AuditLog } from './audit/audit-log.ts';
import { installFhirAudit } from './audit/fhir-audit.ts';
import { drainConnectionsOnClose } from './http-drain.ts';

export interface AppOptions {
  config: Config;
  db: Database;
}

/** TLS 1.2 or newer only. */
function tlsOptions(tls: NonNullable<Config['tls']>): SecureContextOptions {
  return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), minVersion: 'TLSv1.2' };
}

export async function buildApp({ config, db }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' }),
    // FHIR ids and search values may be long; the router should not reject them.
    routerOptions: { maxParamLength: 1000 },
    trustProxy: config.trustProxy === false ? false : config.trustProxy,
    // Request ids are made here (never taken from the client): each is the id of the request's AuditEvent.
    genReqId: newAuditEventId,
    requestIdHeader: false,
    ...(config.tls ? { https: tlsOptions(config.tls) } : {}),
  }) as unknown as FastifyInstance;
  drainConnectionsOnClose(app);
  const fhirBase = `${config.baseUrl}/fhir`;
  const resources = new ResourceService(db, { fhirBase });
  const bundles = new BundleService(resources, fhirBase);
  const capability = JSON.stringify(buildCapabilityStatement({ fhirBase, softwareVersion: VERSION, security: capabilitySecurity(config.baseUrl) }));
  await ensureSigningKeys(db);
  const keys = new KeyRing(db);
  const revocations = new RevocationList(db);
  await revocations.start();
  app.addHook('onClose', async () => revocations.stop());
  const verifier = new AccessTokenVerifier(keys, revocations, { issuer: config.baseUrl, audience: fhirBase });
  const audit = new AuditLog(db, { source: { baseUrl: config.baseUrl } });
  app.addHook('onClose', async () => audit.close());

  await app.register(
    async (fhir) => {
      installFhirErrorHandlers(fhir);
      installFhirCors(fhir);
      installFhirAudit(fhir, { audit });
      await fhir.register(smartConfigurationEndpoint, { baseUrl: config.baseUrl });
      await fhir.register(fhirRoutes, {
        resources,
        bundles,
        fhirBase,
        capabilityStatement: () => capability,
        principal: bearerPrincipal(verifier, fhirBase),
      });
    },
    { prefix: '/fhir' },
  );
  const secure = config.baseUrl.startsWith('https:');
  await registerWeb(app, { secure });
  const sessions = new Sessions(db, secure);
  const authAudit = { audit, fhirBase };
  await app.register(authorizeEndpoint, { db, sessions, fhirBase, audit: authAudit });
  await app.register(manageEndpoint, { db, sessions, revocations, audit: authAudit });
  await app.register(jwksEndpoint, { db });
  await app.register(openidConfigurationEndpoint, { baseUrl: config.baseUrl });
  await app.register(tokenEndpoint, { db, keys, revocations, baseUrl: config.baseUrl, audit });
  await app.register(introspectionEndpoint, { db, verifier, baseUrl: config.baseUrl, adminToken: config.adminToken, audit });
  await app.register(revocationEndpoint, { db, verifier, revocations, baseUrl: config.baseUrl, audit });
  await app.register(userinfoEndpoint, { db, verifier, fhirBase });
  await app.register(registrationEndpoint, { db, audit, fhirBase });
  await app.register(adminApi, { prefix: ADMIN_API_PREFIX, db, adminToken: config.adminToken, audit, fhirBase });
  await app.register(launchApi, { db, sessions, adminToken: config.adminToken, fhirBase, audit: authAudit });
  const ehrFhir = new FhirAsUser(app, keys, { issuer: config.baseUrl, fhirBase, clientId: EHR_CLIENT_ID, scope: 'user/*.rs' });
  await app.register(ehrRoutes, { db, sessions, audit: authAudit, fhir: ehrFhir, baseUrl: config.baseUrl, fhirBase });
  // The portal writes one thing: the patient's privacy Consent.
  const portalFhir = new FhirAsUser(app, keys, { issuer: config.baseUrl, fhirBase, clientId: PORTAL_CLIENT_ID, scope: 'user/*.rs user/Consent.cu' });
  const adminFhir = new FhirAsUser(app, keys, { issuer: config.baseUrl, fhirBase, clientId: ADMIN_CLIENT_ID, scope: 'user/AuditEvent.rs' });
  await app.register(adminConsole, { db, sessions, audit: authAudit, fhir: adminFhir, revocations });
  await app.register(usersConsole, { db, sessions, audit: authAudit });
  await app.register(portalRoutes, { db, sessions, revocations, audit: authAudit, fhir: portalFhir, fhirBase });
  await app.register(homePage, { db, config, fhirBase });
  if (config.mode === 'sandbox') await app.register(tokenInspector, { keys, issuer: config.baseUrl });
  return app;
}
