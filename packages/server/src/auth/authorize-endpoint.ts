// GET and POST {base}/auth/authorize (RFC 6749 §4.1.1, SMART App Launch 2.2 §Obtain authorization code) and the
// pages that follow it at {base}/auth/interaction/{id}: sign-in, patient and encounter pickers, consent. The request
// lives in the database between pages, so any instance can serve any step. Every form post is CSRF-checked and
// answered with a redirect (post/redirect/get); the last step redirects to the app with the code and `state`.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection'; // app.csrfProtection, reply.generateCsrf
import type { Database } from '../store/database.ts';
import { sendPage } from '../ui/layout.ts';
import {
  AuthorizationPageError, AuthorizationRedirectError, validateAuthorizationRequest, type AuthorizationParams,
} from './authorization-request.ts';
import { consentForm, encounterPicker, errorPage, loginForm, patientPicker, type FormContext } from './authorize-pages.ts';
import { rememberApproval, rememberedScopes } from './approval-store.ts';
import { getClient, type Client } from './clients/client-store.ts';
import { consentGroups, grantedByConsent } from './consent-options.ts';
import { createGrantWithCode } from './grant-store.ts';
import { loadInteraction, saveInteraction, saveProgress, deleteInteraction, type Interaction } from './interaction-store.ts';
import { encountersOf, findPatients, mayChoosePatient, ownPatient, patientById } from './launch-pickers.ts';
import { registerFormParser } from './form-body.ts';
import type { Session, Sessions } from './session.ts';
import { signIn } from './sign-in.ts';
import { launchContextFor } from './launch-context.ts';
import { recordAuthEvent, type AuthAuditOptions } from '../audit/auth-audit.ts';

export const AUTHORIZE_PATH = '/auth/authorize';
const INTERACTION_PATH = '/auth/interaction';

export interface AuthorizeOptions {
  db: Database;
  sessions: Sessions;
  fhirBase: string;
  audit: AuthAuditOptions;
}

type Step =
  | { kind: 'login'; error?: string }
  | { kind: 'patient' }
  | { kind: 'encounter'; patient: string }
  | { kind: 'consent' }
  | { kind: 'done'; scopes: string[] };

interface InteractionRoute { Params: { id: string }; Querystring: { name?: string } }

export async function authorizeEndpoint(app: FastifyInstance, opts: AuthorizeOptions): Promise<void> {
  const { db, sessions, fhirBase, audit } = opts;
  registerFormParser(app);
  app.setErrorHandler((err, request, reply) => {
    if ((err as { code?: string }).code === 'FST_CSRF_INVALID_TOKEN' || (err as { code?: string }).code === 'FST_CSRF_MISSING_SECRET') {
      return sendPage(reply, { title: 'Please try again', status: 403, body: errorPage('This form has expired or was not sent from this site. Go back, reload the page and try again.') });
    }
    if (err instanceof AuthorizationPageError) return sendPage(reply, { title: 'This app cannot be authorized', status: 400, body: errorPage(err.message) });
    request.log.error({ err }, 'authorization endpoint error');
    return sendPage(reply, { title: 'Something went wrong', status: 500, body: errorPage('The server could not complete this request.') });
  });

  const start = async (request: FastifyRequest, reply: FastifyReply, form: URLSearchParams) => {
    let validated: { client: Client; params: AuthorizationParams };
    try {
      validated = await validateAuthorizationRequest(db, form, { fhirBase });
    } catch (err) {
      if (err instanceof AuthorizationRedirectError) return redirectToApp(reply, err.redirectUri, { error: err.error.code, error_description: err.error.description, state: err.state });
      throw err;
    }
    const interaction = await saveInteraction(db, validated.params);
    const session = await sessions.current(request);
    const step = await nextStep(interaction, validated.client, session);
    if (step.kind === 'done') return finish(reply, interaction, validated.client, session!, step.scopes);
    if (interaction.params.prompt.includes('none')) return refuseSilently(reply, interaction, step);
    return reply.redirect(`${INTERACTION_PATH}/${interaction.id}`, 303);
  };

  app.get(AUTHORIZE_PATH, (request, reply) => start(request, reply, new URLSearchParams(request.url.split('?')[1] ?? '')));
  app.post(AUTHORIZE_PATH, (request, reply) => {
    if (!(request.body instanceof URLSearchParams)) throw new AuthorizationPageError('The authorization request must be a form post (application/x-www-form-urlencoded).');
    return start(request, reply, request.body);
  });

  app.get<InteractionRoute>(`${INTERACTION_PATH}/:id`, async (request, reply) => {
    const { interaction, client } = await current(request.params.id);
    const session = await sessions.current(request);
    const step = await nextStep(interaction, client, session);
    if (step.kind === 'done') return finish(reply, interaction, client, session!, step.scopes);
    return render(reply, interaction, client, session, step, request.query.name ?? '');
  });

  app.post<InteractionRoute>(`${INTERACTION_PATH}/:id`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const { interaction, client } = await current(request.params.id);
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const session = await sessions.current(request);
    const step = await nextStep(interaction, client, session);
    const again = () => reply.redirect(`${INTERACTION_PATH}/${interaction.id}`, 303);
    switch (form.get('step')) {
      case 'login': {
        const error = await signIn(db, sessions, request, reply, form, { audit, clientId: client.clientId });
        return error ? render(reply, interaction, client, undefined, { kind: 'login', error }, '', form.get('username') ?? '') : again();
      }
      case 'patient':
        if (step.kind === 'patient' && session) await choosePatient(interaction, session, form.get('patient') ?? '');
        return again();
      case 'encounter':
        if (step.kind === 'encounter' && (await encountersOf(db, fhirBase, step.patient)).some((e) => e.id === form.get('encounter'))) {
          await saveProgress(db, interaction, { encounter: form.get('encounter')! });
        }
        return again();
      case 'consent':
        if (step.kind !== 'consent' || !session) return again();
        return consent(request, reply, interaction, client, session, form);
      default:
        return again();
    }
  });

  async function current(id: string): Promise<{ interaction: Interaction; client: Client }> {
    const interaction = await loadInteraction(db, id);
    if (!interaction) throw new AuthorizationPageError('This sign-in page has expired. Go back to the app and start again.');
    const client = await getClient(db, interaction.params.clientId);
    if (!client || client.status !== 'active') throw new AuthorizationPageError('The app is no longer authorized to connect.');
    return { interaction, client };
  }

  async function nextStep(interaction: Interaction, client: Client, session: Session | undefined): Promise<Step> {
    const { params, progress } = interaction;
    if (!session) return { kind: 'login' };
    if (params.prompt.includes('login') && session.createdAt < interaction.createdAt) return { kind: 'login' };
    if (params.launch?.userId && params.launch.userId !== session.user.id) return { kind: 'login', error: 'Sign in as the user who launched this app.' };
    const patient = params.launch?.context.patient ?? progress.patient;
    if (params.scopes.includes('launch/patient') && !patient) {
      const own = await ownPatient(db, fhirBase, session.user);
      if (!own) return { kind: 'patient' };
      await saveProgress(db, interaction, { patient: own });
      return nextStep(interaction, client, session);
    }
    if (params.scopes.includes('launch/encounter') && patient && !params.launch?.context.encounter && progress.encounter === undefined) {
      if ((await encountersOf(db, fhirBase, patient)).length > 0) return { kind: 'encounter', patient };
      await saveProgress(db, interaction, { encounter: null });
    }
    if (progress.granted) return { kind: 'done', scopes: progress.granted };
    const remembered = await rememberedScopes(db, session.user.id, client.clientId);
    if (params.prompt.includes('consent') || !params.scopes.every((s) => remembered.has(s))) return { kind: 'consent' };
    return { kind: 'done', scopes: params.scopes };
  }

  async function render(reply: FastifyReply, interaction: Interaction, client: Client, session: Session | undefined, step: Exclude<Step, { kind: 'done' }>, query: string, username?: string) {
    const f: FormContext = { action: `${INTERACTION_PATH}/${interaction.id}`, csrf: reply.generateCsrf(), appName: client.name };
    const formTargets = [new URL(interaction.params.redirectUri).origin];
    const title = `Connect ${client.name}`;
    switch (step.kind) {
      case 'login':
        return sendPage(reply, { title, formTargets, status: step.error ? 401 : 200, body: loginForm(f, { error: step.error, username }) });
      case 'patient':
        return sendPage(reply, { title: 'Choose a patient', formTargets, body: patientPicker(f, { query, patients: await findPatients(db, fhirBase, session!.user, query), searchAction: f.action }) });
      case 'encounter':
        return sendPage(reply, { title: 'Choose an encounter', formTargets, body: encounterPicker(f, { encounters: await encountersOf(db, fhirBase, step.patient) }) });
      case 'consent': {
        const patient = interaction.params.launch?.context.patient ?? interaction.progress.patient;
        const patientName = patient ? (await patientById(db, fhirBase, patient))?.name : undefined;
        return sendPage(reply, { title: `Allow ${client.name}?`, formTargets, body: consentForm(f, { groups: consentGroups(interaction.params.scopes), patientName, userName: session!.user.name }) });
      }
    }
  }

  async function choosePatient(interaction: Interaction, session: Session, patient: string) {
    if (await mayChoosePatient(db, fhirBase, session.user, patient)) await saveProgress(db, interaction, { patient });
  }

  async function consent(request: FastifyRequest, reply: FastifyReply, interaction: Interaction, client: Client, session: Session, form: URLSearchParams) {
    if (form.get('decision') !== 'allow') {
      await deleteInteraction(db, interaction.id);
      return redirectToApp(reply, interaction.params.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: interaction.params.state });
    }
    const granted = grantedByConsent(consentGroups(interaction.params.scopes), form.getAll('scope'));
    if (granted.length === 0) {
      await deleteInteraction(db, interaction.id);
      return redirectToApp(reply, interaction.params.redirectUri, { error: 'access_denied', error_description: 'the user granted no scopes', state: interaction.params.state });
    }
    // Recorded before it takes effect: no approval is stored, and no code issued, unless the record is committed.
    const patient = interaction.params.launch?.context.patient ?? interaction.progress.patient ?? undefined;
    await recordAuthEvent(audit, request, 200, {
      event: 'consent-granted', userId: session.user.id, fhirUser: session.user.fhirUser ?? undefined, userName: session.user.name,
      clientId: client.clientId, scope: granted.join(' '), ...(patient ? { patient } : {}),
    });
    await rememberApproval(db, session.user.id, client.clientId, granted);
    await saveProgress(db, interaction, { granted });
    return finish(reply, interaction, client, session, granted);
  }

  async function finish(reply: FastifyReply, interaction: Interaction, client: Client, session: Session, scopes: string[]) {
    const { params } = interaction;
    const context = launchContextFor(params, interaction.progress, scopes, session.user, fhirBase);
    const code = await createGrantWithCode(db, {
      clientId: client.clientId, userId: session.user.id, scope: scopes.join(' '), context,
      sessionIdHash: scopes.includes('online_access') ? session.idHash : undefined,
      redirectUri: params.redirectUri, codeChallenge: params.codeChallenge, nonce: params.nonce,
    });
    await deleteInteraction(db, interaction.id);
    return redirectToApp(reply, params.redirectUri, { code, state: params.state });
  }

  function refuseSilently(reply: FastifyReply, interaction: Interaction, step: Step) {
    // OpenID Connect Core §3.1.2.6: prompt=none never shows a page.
    const error = step.kind === 'login' ? 'login_required' : step.kind === 'consent' ? 'consent_required' : 'interaction_required';
    return redirectToApp(reply, interaction.params.redirectUri, { error, error_description: 'the request needs user interaction (prompt=none)', state: interaction.params.state });
  }
}

function redirectToApp(reply: FastifyReply, redirectUri: string, params: Record<string, string | undefined>): FastifyReply {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return reply.header('Cache-Control', 'no-store').redirect(url.toString(), 302);
}
