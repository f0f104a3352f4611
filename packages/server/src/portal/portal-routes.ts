// {base}/portal: the patient portal. A patient signs in (the same users and session as the authorization server)
// and sees their record summary, the apps they have connected (and disconnects them: refresh tokens stop at once),
// who has looked at their record through which app (the audit trail), their privacy preferences (a Consent the FHIR
// server enforces), and the apps they can open themselves (standalone launch). Clinical data, the trail and the
// Consent are read and written through the FHIR API as the built-in client `firekeeper-portal`, as the patient.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { Database } from '../store/database.ts';
import type { AuthAuditOptions } from '../audit/auth-audit.ts';
import { CLIENT_ID_SYSTEM } from '../audit/audit-event.ts';
import { returnPath, sendSignInPage } from '../auth/authorize-pages.ts';
import { registerFormParser } from '../auth/form-body.ts';
import { authorizedApps } from '../auth/grant-store.ts';
import { listClients, type Client } from '../auth/clients/client-store.ts';
import { revokeAppAccess } from '../auth/manage-endpoint.ts';
import type { RevocationList } from '../auth/revocation-list.ts';
import type { Session, Sessions } from '../auth/session.ts';
import { signIn } from '../auth/sign-in.ts';
import type { User } from '../auth/users/user-store.ts';
import { chartOf, chartRequests } from '../ehr/chart.ts';
import { EHR_CLIENT_ID, EHR_PATH } from '../ehr/ehr-pages.ts';
import { ADMIN_CLIENT_ID } from '../admin/admin-pages.ts';
import type { FhirAsUser } from '../ui/fhir-as-user.ts';
import { html } from '../ui/html.ts';
import { alertMessage, installPageErrorHandler, sendPage } from '../ui/layout.ts';
import { PORTAL_CLIENT_ID, PORTAL_PATH, portalBody, type AccessEntry } from './portal-pages.ts';
import { consentId, isWithhold, preferencesConsent, preferencesOf, type Preference } from './privacy-preferences.ts';

export interface PortalRoutesOptions {
  db: Database;
  sessions: Sessions;
  revocations: RevocationList;
  audit: AuthAuditOptions;
  fhir: FhirAsUser;
  fhirBase: string;
}

const HISTORY_SIZE = 50;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR JSON, read defensively

class BadForm extends Error {}

export async function portalRoutes(app: FastifyInstance, opts: PortalRoutesOptions): Promise<void> {
  const { db, sessions, fhir } = opts;
  registerFormParser(app);
  installPageErrorHandler(app, 'patient portal');

  app.get(PORTAL_PATH, async (request, reply) => {
    const session = await patientSession(request, reply);
    if (!session) return reply;
    const patientId = session.user.fhirUser!.slice('Patient/'.length);
    const results = await fhir.readAll(session.user, [
      ...chartRequests(patientId),
      // Twice what is shown: the portal's own reads are left out of the history.
      `AuditEvent?patient=Patient/${encodeURIComponent(patientId)}&_sort=-date&_count=${HISTORY_SIZE * 2}`,
      `Consent/${encodeURIComponent(consentId(patientId))}`,
    ]);
    const chart = chartOf(results.slice(0, 6));
    if (!chart) return sendPage(reply, { title: 'Your record', status: 404, body: alertMessage('Your account is not linked to a record here.') });
    const clients = await listClients(db);
    const names = appNames(clients);
    const history = accessHistory(bundleEntries(results[6]?.resource), names, session.user.fhirUser!);
    const lastUsed = new Map<string, string>();
    for (const e of [...history].reverse()) lastUsed.set(e.clientId, e.when);
    const apps = (await authorizedApps(db, session.user.id)).map((a) => ({ ...a, ...(lastUsed.has(a.clientId) ? { lastUsed: lastUsed.get(a.clientId)! } : {}) }));
    const interactive = clients.filter((c) => c.status === 'active' && c.grantTypes.includes('authorization_code'));
    const body = portalBody({
      userName: session.user.name, chart, apps, history,
      preferences: preferencesOf(results[7]?.resource),
      appNames: new Map(interactive.map((c) => [c.clientId, c.name])),
      standalone: interactive.filter((c) => c.launchUrl && c.scopes.includes('launch/patient')).map((c) => ({ name: c.name, url: standaloneUrl(c.launchUrl!, opts.fhirBase) })),
    }, reply.generateCsrf());
    return sendPage(reply, { title: 'Your record', wide: true, body });
  });

  app.post(PORTAL_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const session = await sessions.current(request);
    const step = form.get('step');
    if (step === 'login') {
      const error = await signIn(db, sessions, request, reply, form, { audit: opts.audit, clientId: PORTAL_CLIENT_ID });
      if (error) return showLogin(reply, error, form.get('username') ?? '', form.get('return') ?? undefined);
      return reply.redirect(returnPath(form, PORTAL_PATH), 303);
    } else if (step === 'logout') {
      await sessions.end(request, reply);
    } else if (session?.user.role === 'patient' && session.user.fhirUser?.startsWith('Patient/')) {
      try {
        if (step === 'revoke') await revokeAppAccess(opts, request, session.user, form.get('client_id') ?? '');
        else if (step === 'add-preference' || step === 'remove-preference') await changePreferences(session.user, form, step);
      } catch (err) {
        if (!(err instanceof BadForm)) throw err;
        return sendPage(reply, { title: 'Your record', status: 400, body: html`${alertMessage(err.message)}<p><a href="${PORTAL_PATH}">Back</a></p>` });
      }
    }
    return reply.redirect(PORTAL_PATH, 303);
  });

  /** Adds or removes one preference: the portal's Consent is rewritten, through the FHIR API, as the patient. */
  async function changePreferences(user: User, form: URLSearchParams, step: 'add-preference' | 'remove-preference'): Promise<void> {
    const patientId = user.fhirUser!.slice('Patient/'.length);
    const [current] = await fhir.readAll(user, [`Consent/${encodeURIComponent(consentId(patientId))}`]);
    const preferences = preferencesOf(current?.resource);
    if (step === 'add-preference') {
      preferences.push(await newPreference(form));
    } else {
      const index = Number(form.get('index'));
      if (!Number.isInteger(index) || index < 0 || index >= preferences.length) throw new BadForm('That preference no longer exists.');
      preferences.splice(index, 1);
    }
    const written = await fhir.write(user, 'PUT', `Consent/${encodeURIComponent(consentId(patientId))}`, preferencesConsent(patientId, preferences));
    if (written.status >= 300) throw new Error(`the privacy Consent could not be written: HTTP ${written.status}`);
  }

  async function newPreference(form: URLSearchParams): Promise<Preference> {
    const withhold = form.get('withhold') ?? '';
    if (!isWithhold(withhold)) throw new BadForm('Choose what not to share.');
    const clientId = form.get('client_id') || null;
    if (clientId !== null && !(await listClients(db)).some((c) => c.clientId === clientId)) throw new BadForm('That app is not registered.');
    return { withhold, clientId };
  }

  /** The signed-in patient's session; otherwise the sign-in page (or a refusal) is sent. */
  async function patientSession(request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
    const session = await sessions.current(request);
    if (!session) {
      showLogin(reply, undefined, undefined, request.method === 'GET' ? request.url : undefined);
    } else if (session.user.role !== 'patient' || !session.user.fhirUser?.startsWith('Patient/')) {
      sendPage(reply, { title: 'This is the patient portal', status: 403, body: html`<p>You are signed in as ${session.user.name}, who is not a patient with a record here. Clinicians use <a href="${EHR_PATH}">the EHR</a>.</p>` });
    } else {
      return session;
    }
    return undefined;
  }

  function showLogin(reply: FastifyReply, error?: string, username?: string, returnTo?: string) {
    return sendSignInPage(reply, { action: PORTAL_PATH, title: 'Patient portal', intro: 'Sign in to see your record, the apps you have connected and who has looked at your data.', error, username, returnTo });
  }
}

/** Every app's name by client_id, with Firekeeper's own pages under their names. */
function appNames(clients: readonly Client[]): Map<string, string> {
  return new Map([[EHR_CLIENT_ID, 'Firekeeper EHR'], [PORTAL_CLIENT_ID, 'this portal'], [ADMIN_CLIENT_ID, 'Firekeeper admin console'], ...clients.map((c): [string, string] => [c.clientId, c.name])]);
}

/** FHIR interactions (http://hl7.org/fhir/restful-interaction) in words, for the access history. */
const INTERACTION_WORDS: Record<string, string> = {
  read: 'read', vread: 'read a version of', 'search-type': 'searched', 'search-system': 'searched', create: 'created', update: 'updated',
  patch: 'changed', delete: 'deleted', 'history-instance': 'read the history of', 'history-type': 'read the history', batch: 'sent a batch',
  transaction: 'sent a transaction', operation: 'ran an operation',
};

const bundleEntries = (bundle: Json | undefined): Json[] => ((bundle?.entry as Json[] | undefined) ?? []).map((e) => e.resource).filter(Boolean);

/** The audit trail in words, newest first, without the portal's own reads. */
function accessHistory(events: readonly Json[], names: ReadonlyMap<string, string>, self: string): (AccessEntry & { clientId: string })[] {
  const out: (AccessEntry & { clientId: string })[] = [];
  for (const e of events) {
    const agents = (e.agent as Json[] | undefined) ?? [];
    const clientId = agents.find((a) => a.who?.identifier?.system === CLIENT_ID_SYSTEM)?.who.identifier.value as string | undefined;
    if (clientId === PORTAL_CLIENT_ID) continue;
    const user = agents.find((a) => a.requestor === true && a.who?.reference)?.who.reference as string | undefined;
    const subtype = (e.subtype as Json[] | undefined)?.[0];
    const target = ((e.entity as Json[] | undefined) ?? []).find((x) => x.role?.code === '4')?.what?.reference as string | undefined;
    out.push({
      clientId: clientId ?? '',
      when: String(e.recorded ?? '').slice(0, 16).replace('T', ' '),
      app: clientId ? names.get(clientId) ?? clientId : '—',
      who: user === undefined ? '—' : user === self ? 'you' : user,
      what: [INTERACTION_WORDS[subtype?.code] ?? subtype?.display ?? subtype?.code ?? e.action, target?.replace(/\/_history\/.*/, '')].filter(Boolean).join(' '),
      allowed: e.outcome === '0',
    });
    if (out.length === HISTORY_SIZE) break;
  }
  return out;
}

/** Standalone launch: the app's launch URL with `iss` (SMART App Launch 2.2 §Standalone launch: the app knows the server). */
function standaloneUrl(launchUrl: string, fhirBase: string): string {
  const url = new URL(launchUrl);
  url.searchParams.set('iss', fhirBase);
  return url.href;
}
