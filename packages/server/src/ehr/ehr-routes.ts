// {base}/ehr: the simulated EHR for clinicians. Sign in (the same users and session as the authorization server),
// find a patient, open the chart, and launch a registered app from the chart's Apps panel with a real SMART EHR
// launch (a launch record for this patient, the encounter chosen, and this user). Clinical data is read through the
// FHIR API as the built-in client `firekeeper-ehr` (ui/fhir-as-user.ts), so the user's access policy decides what a chart
// shows. Every form is CSRF-protected; patient users are sent to their own page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { Database } from '../store/database.ts';
import type { AuthAuditOptions } from '../audit/auth-audit.ts';
import { html } from '../ui/html.ts';
import { alertMessage, installPageErrorHandler, sendPage } from '../ui/layout.ts';
import { returnPath, sendSignInPage } from '../auth/authorize-pages.ts';
import { registerFormParser } from '../auth/form-body.ts';
import { displayName } from '../auth/launch-pickers.ts';
import { OAuthError } from '../auth/oauth-errors.ts';
import { getClient, listClients } from '../auth/clients/client-store.ts';
import { findLaunch } from '../auth/launch-store.ts';
import type { Session, Sessions } from '../auth/session.ts';
import { signIn } from '../auth/sign-in.ts';
import { MANAGE_PATH } from '../auth/manage-endpoint.ts';
import { isValidId } from '../fhir/validation.ts';
import { chartOf, chartRequests } from './chart.ts';
import type { FhirAsUser } from '../ui/fhir-as-user.ts';
import { EHR_CLIENT_ID } from './ehr-pages.ts';
import { chartBody, chartPath, EHR_PATH, embeddedAppBody, embeddedPath, patientList, signOutForm, type LaunchableApp } from './ehr-pages.ts';
import { notLaunchable, startLaunch } from './launch-api.ts';
import { SMART_STYLE, SMART_STYLE_PATH } from './smart-style.ts';

export interface EhrRoutesOptions {
  db: Database;
  sessions: Sessions;
  audit: AuthAuditOptions;
  fhir: FhirAsUser;
  baseUrl: string;
  fhirBase: string;
}

const PATIENT_LIST_SIZE = 20;

export async function ehrRoutes(app: FastifyInstance, opts: EhrRoutesOptions): Promise<void> {
  const { db, sessions, fhir } = opts;
  registerFormParser(app);
  installPageErrorHandler(app, 'EHR page');

  // SMART App Launch 2.2 `smart_style_url`: the EHR's look, for apps that want to match it (public, read by apps' pages).
  app.get(SMART_STYLE_PATH, (_request, reply) => reply.header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'public, max-age=300').send(SMART_STYLE));

  app.get<{ Querystring: { name?: unknown } }>(EHR_PATH, async (request, reply) => {
    const session = await clinician(request, reply);
    if (!session) return reply;
    const query = typeof request.query.name === 'string' ? request.query.name.trim().slice(0, 100) : '';
    const params = new URLSearchParams({ _count: String(PATIENT_LIST_SIZE), _sort: 'family,given', ...(query ? { name: query } : {}) });
    const [result] = await fhir.readAll(session.user, [`Patient?${params}`]);
    const patients = ((result?.resource?.entry as { resource: Record<string, unknown> }[] | undefined) ?? []).map(({ resource: p }) => ({
      id: p.id as string, name: displayName(p.name), birthDate: p.birthDate as string | undefined, gender: p.gender as string | undefined,
    }));
    return sendPage(reply, { title: 'Patients', body: html`${signOutForm(reply.generateCsrf(), session.user.name)}${patientList({ query, patients })}` });
  });

  app.post(EHR_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    if (form.get('step') === 'login') {
      const error = await signIn(db, sessions, request, reply, form, { audit: opts.audit, clientId: EHR_CLIENT_ID });
      if (error) return showLogin(reply, error, form.get('username') ?? '', form.get('return') ?? undefined);
      return reply.redirect(returnPath(form, EHR_PATH), 303);
    } else if (form.get('step') === 'logout') {
      await sessions.end(request, reply);
    }
    return reply.redirect(EHR_PATH, 303);
  });

  app.get<{ Params: { id: string } }>(`${EHR_PATH}/patients/:id`, async (request, reply) => {
    const session = await clinician(request, reply);
    if (!session) return reply;
    const chart = isValidId(request.params.id) ? chartOf(await fhir.readAll(session.user, chartRequests(request.params.id))) : undefined;
    if (!chart) return notFound(reply);
    const apps = await launchableApps();
    const csrf = reply.generateCsrf();
    return sendPage(reply, {
      title: chart.banner.name, wide: true, formTargets: appOrigins(apps),
      body: html`${signOutForm(csrf, session.user.name)}<p><a href="${EHR_PATH}">All patients</a></p>${chartBody(chart, apps, csrf)}`,
    });
  });

  app.post<{ Params: { id: string } }>(`${EHR_PATH}/patients/:id/launch`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await clinician(request, reply);
    if (!session) return reply;
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const patient = request.params.id;
    // The patient must be one this user may open (their access policy), not just any id in the URL.
    const [read] = isValidId(patient) ? await fhir.readAll(session.user, [`Patient/${patient}`]) : [];
    if (!read?.resource) return notFound(reply);
    const encounter = form.get('encounter') || undefined;
    const clientId = form.get('client_id') ?? '';
    const embedded = (await getClient(db, clientId))?.launchMode === 'embedded';
    try {
      const { url, launch } = await startLaunch(db, opts.fhirBase, {
        clientId, userId: session.user.id,
        // Embedded, the app sits under the EHR's banner; in a window of its own, it should show the patient.
        context: { patient, ...(encounter ? { encounter } : {}), need_patient_banner: !embedded, smart_style_url: `${opts.baseUrl}${SMART_STYLE_PATH}` },
      });
      return reply.redirect(embedded ? embeddedPath(patient, clientId, launch) : url, 303);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return sendPage(reply, { title: 'The app cannot be launched', status: 400, body: html`${alertMessage(err.description)}<p><a href="${chartPath(patient)}">Back to the chart</a></p>` });
    }
  });

  // An embedded app: the chart's banner and the app in an iframe, for a launch this user made for this patient.
  app.get<{ Params: { id: string; clientId: string; launchId: string } }>(`${EHR_PATH}/patients/:id/apps/:clientId/:launchId`, async (request, reply) => {
    const session = await clinician(request, reply);
    if (!session) return reply;
    const { id, clientId, launchId } = request.params;
    const launch = await findLaunch(db, launchId, clientId);
    const client = launch && launch.userId === session.user.id && launch.context.patient === id ? await getClient(db, clientId) : undefined;
    const chart = client?.launchUrl && isValidId(id) ? chartOf(await fhir.readAll(session.user, chartRequests(id))) : undefined;
    if (!client?.launchUrl || !chart) return notFound(reply);
    const url = new URL(client.launchUrl);
    url.searchParams.set('iss', opts.fhirBase);
    url.searchParams.set('launch', launchId);
    return sendPage(reply, { title: client.name, wide: true, frameSources: [url.origin], body: embeddedAppBody(chart, client.name, url.href) });
  });

  /** The signed-in clinician's or administrator's session; otherwise the sign-in page (or a refusal) is sent. */
  async function clinician(request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
    const session = await sessions.current(request);
    if (!session) {
      showLogin(reply, undefined, undefined, request.method === 'GET' ? request.url : undefined);
    } else if (session.user.role === 'patient') {
      sendPage(reply, { title: 'This is the clinicians’ EHR', status: 403, body: html`<p>You are signed in as a patient. See and manage the apps that can reach your record on <a href="${MANAGE_PATH}">Connected apps</a>.</p>` });
    } else {
      return session;
    }
    return undefined;
  }

  function showLogin(reply: FastifyReply, error?: string, username?: string, returnTo?: string) {
    return sendSignInPage(reply, { action: EHR_PATH, title: 'Sign in to the EHR', intro: 'Sign in to the Firekeeper EHR to open patient charts and launch apps.', error, username, returnTo });
  }

  function notFound(reply: FastifyReply) {
    return sendPage(reply, { title: 'Patient not found', status: 404, body: html`<p>No such patient, or not one you may open.</p><p><a href="${EHR_PATH}">All patients</a></p>` });
  }

  async function launchableApps(): Promise<LaunchableApp[]> {
    return (await listClients(db)).filter((c) => notLaunchable(c) === undefined)
      .map((c) => ({ clientId: c.clientId, name: c.name, origin: new URL(c.launchUrl!).origin, mode: c.launchMode }));
  }
}

/** The launch form's answer redirects to an app: CSP form-action must allow those origins (Chrome checks redirects). */
const appOrigins = (apps: readonly LaunchableApp[]) => [...new Set(apps.map((a) => a.origin))];
