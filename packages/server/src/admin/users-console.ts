// {base}/admin/users: the administrators' view of the people who sign in. Create a user (username, password, role),
// link them to their FHIR resource (`fhirUser`: a Practitioner, Patient or RelatedPerson that must exist), and set the
// access policy that the FHIR server intersects with every `user/` scope (all patients, one Organization's
// patients, or only their own record). Every change is audited with the administrator as the user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/csrf-protection';
import type { Database } from '../store/database.ts';
import type { AuthEvent } from '../audit/audit-event.ts';
import { recordAuthEvent, type AuthAuditOptions } from '../audit/auth-audit.ts';
import { registerFormParser } from '../auth/form-body.ts';
import type { Sessions } from '../auth/session.ts';
import {
  createUser, getUser, listUsers, updateUser, USER_ROLES, type AccessPolicy, type User, type UserRole,
} from '../auth/users/user-store.ts';
import { isUniqueViolation } from '../store/database.ts';
import { html, type Html } from '../ui/html.ts';
import { alertMessage, csrfField, installPageErrorHandler, sendPage } from '../ui/layout.ts';
import { ADMIN_PATH } from './admin-pages.ts';
import { adminGate } from './admin-session.ts';

export const USERS_PATH = `${ADMIN_PATH}/users`;
const userPath = (id: string) => `${USERS_PATH}/${encodeURIComponent(id)}`;

export interface UsersConsoleOptions {
  db: Database;
  sessions: Sessions;
  audit: AuthAuditOptions;
}

/** The user form as typed. */
interface UserForm {
  username: string;
  password: string;
  name: string;
  email: string;
  role: string;
  fhirUser: string;
  policy: string;
  organization: string;
}

const POLICIES: [AccessPolicy['kind'], string][] = [
  ['all-patients', 'All patients'],
  ['organization', 'Patients of one Organization'],
  ['own-compartment', 'Only their own record (a patient, or a related person)'],
];

class FormError extends Error {}

const FHIR_USER_TYPES = /^(Practitioner|Patient|RelatedPerson|PractitionerRole|Person)$/;

export async function usersConsole(app: FastifyInstance, opts: UsersConsoleOptions): Promise<void> {
  const { db } = opts;
  const adminSession = adminGate(opts.sessions);
  registerFormParser(app);
  installPageErrorHandler(app, 'admin console (users)');

  app.get(USERS_PATH, async (request, reply) => {
    if (!(await adminSession(request, reply))) return reply;
    return sendPage(reply, { title: 'Users', wide: true, body: userList(await listUsers(db)) });
  });

  app.get(`${USERS_PATH}/new`, async (request, reply) => {
    if (!(await adminSession(request, reply))) return reply;
    return sendPage(reply, { title: 'New user', body: userFormHtml(USERS_PATH, blankForm(), reply.generateCsrf(), true) });
  });

  app.post(USERS_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const form = readForm(request.body);
    try {
      const settings = await settingsOf(db, form);
      const user = await createUser(db, { username: form.username, password: form.password, email: form.email || undefined, ...settings, fhirUser: settings.fhirUser ?? undefined });
      await audited(request, session.user, 'user-created', user);
    } catch (err) {
      const message = err instanceof FormError || err instanceof TypeError ? err.message : isUniqueViolation(err, 'users_username_key') ? 'That username is taken.' : undefined;
      if (message === undefined) throw err;
      return sendPage(reply, { title: 'New user', status: 400, body: userFormHtml(USERS_PATH, { ...form, password: '' }, reply.generateCsrf(), true, message) });
    }
    return reply.redirect(USERS_PATH, 303);
  });

  app.get<{ Params: { id: string } }>(`${USERS_PATH}/:id`, async (request, reply) => {
    if (!(await adminSession(request, reply))) return reply;
    const user = await getUser(db, request.params.id);
    if (!user) return notFound(reply);
    return sendPage(reply, { title: `User ${user.username}`, body: userFormHtml(userPath(user.id), formOf(user), reply.generateCsrf(), false) });
  });

  app.post<{ Params: { id: string } }>(`${USERS_PATH}/:id`, { preHandler: app.csrfProtection }, async (request, reply) => {
    const session = await adminSession(request, reply);
    if (!session) return reply;
    const existing = await getUser(db, request.params.id);
    if (!existing) return notFound(reply);
    const form = { ...readForm(request.body), username: existing.username };
    try {
      const updated = (await updateUser(db, existing.id, await settingsOf(db, form)))!;
      await audited(request, session.user, 'user-updated', updated);
    } catch (err) {
      if (!(err instanceof FormError || err instanceof TypeError)) throw err;
      return sendPage(reply, { title: `User ${existing.username}`, status: 400, body: userFormHtml(userPath(existing.id), form, reply.generateCsrf(), false, err.message) });
    }
    return reply.redirect(USERS_PATH, 303);
  });

  function notFound(reply: FastifyReply) {
    return sendPage(reply, { title: 'Not found', status: 404, body: html`${alertMessage('No such user.')}<p><a href="${USERS_PATH}">All users</a></p>` });
  }

  function audited(request: FastifyRequest, admin: User, event: AuthEvent, user: User): Promise<void> {
    return recordAuthEvent(opts.audit, request, 200, { event, userId: admin.id, userName: admin.name }, `user ${user.username}: role ${user.role}, ${describePolicy(user.accessPolicy)}${user.fhirUser ? `, ${user.fhirUser}` : ''}`);
  }
}

const blankForm = (): UserForm => ({ username: '', password: '', name: '', email: '', role: 'clinician', fhirUser: '', policy: 'all-patients', organization: '' });

function formOf(u: User): UserForm {
  return {
    username: u.username, password: '', name: u.name, email: u.email ?? '', role: u.role, fhirUser: u.fhirUser ?? '', policy: u.accessPolicy.kind,
    organization: u.accessPolicy.kind === 'organization' ? u.accessPolicy.organization : '',
  };
}

function readForm(body: unknown): UserForm {
  const form = body instanceof URLSearchParams ? body : new URLSearchParams();
  const v = (k: keyof UserForm) => (k === 'password' ? form.get(k) ?? '' : (form.get(k) ?? '').trim());
  return { username: v('username'), password: v('password'), name: v('name'), email: v('email'), role: v('role'), fhirUser: v('fhirUser'), policy: v('policy'), organization: v('organization') };
}

/** The settings the form asks for; the linked resources must exist. */
async function settingsOf(db: Database, f: UserForm): Promise<{ name: string; role: UserRole; fhirUser: string | null; accessPolicy: AccessPolicy }> {
  if (!f.name) throw new FormError('A name is required.');
  const accessPolicy: AccessPolicy = f.policy === 'organization' ? { kind: 'organization', organization: f.organization }
    : f.policy === 'own-compartment' ? { kind: 'own-compartment' } : { kind: 'all-patients' };
  if (!POLICIES.some(([kind]) => kind === f.policy)) throw new FormError('Choose an access policy.');
  // Well-formed references must name existing resources; malformed ones are refused by the user store.
  const refs: [string, RegExp][] = [[f.fhirUser, FHIR_USER_TYPES], [accessPolicy.kind === 'organization' ? accessPolicy.organization : '', /^Organization$/]];
  for (const [ref, types] of refs) {
    const [type = '', id = '', extra] = ref.split('/');
    if (!types.test(type) || !/^[A-Za-z0-9\-.]{1,64}$/.test(id) || extra !== undefined) continue;
    if ((await db.query('SELECT 1 FROM resources WHERE type = $1 AND id = $2 AND NOT deleted', [type, id])).length === 0) throw new FormError(`There is no ${ref}.`);
  }
  return { name: f.name, role: f.role as UserRole, fhirUser: f.fhirUser || null, accessPolicy };
}

function describePolicy(p: AccessPolicy): string {
  return p.kind === 'organization' ? `patients of ${p.organization}` : p.kind === 'own-compartment' ? 'own record only' : 'all patients';
}

function userList(users: readonly User[]): Html {
  return html`<p><a href="${ADMIN_PATH}">Apps</a> · <a href="${USERS_PATH}/new">New user</a></p>
<table>
<thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">FHIR identity</th><th scope="col">Access</th></tr></thead>
<tbody>${users.map((u) => html`<tr><td><a href="${userPath(u.id)}">${u.username}</a></td><td>${u.name}</td><td>${u.role}</td><td>${u.fhirUser ?? '—'}</td><td>${describePolicy(u.accessPolicy)}</td></tr>`)}</tbody>
</table>`;
}

function userFormHtml(action: string, f: UserForm, csrf: string, isNew: boolean, error?: string): Html {
  const input = (name: keyof UserForm, label: string, type = 'text', hint = '') => html`<label for="${name}">${label}</label>${hint ? html`<span class="muted">${hint}</span>` : ''}
<input type="${type}" id="${name}" name="${name}" value="${f[name]}"${name === 'password' ? html` autocomplete="new-password"` : ''}>`;
  const select = (name: keyof UserForm, label: string, options: readonly (readonly [string, string])[]) => html`<label for="${name}">${label}</label>
<select id="${name}" name="${name}">${options.map(([v, l]) => html`<option value="${v}"${f[name] === v ? html` selected` : ''}>${l}</option>`)}</select>`;
  return html`${error ? alertMessage(error) : ''}
<form method="post" action="${action}">
${csrfField(csrf)}
${isNew ? html`${input('username', 'Username')}${input('password', 'Password', 'password', 'at least 8 characters')}` : html`<p>Username <strong>${f.username}</strong></p>`}
${input('name', 'Name')}
${isNew ? input('email', 'Email', 'email') : ''}
${select('role', 'Role', USER_ROLES.map((r) => [r, r] as const))}
${input('fhirUser', 'FHIR identity', 'text', 'the Practitioner, Patient or RelatedPerson this user is, e.g. Practitioner/123')}
${select('policy', 'Access policy', POLICIES)}
${input('organization', 'Organization', 'text', 'for "Patients of one Organization": e.g. Organization/123')}
<button type="submit">${isNew ? 'Create user' : 'Save'}</button>
</form>
<p><a href="${USERS_PATH}">All users</a></p>`;
}
