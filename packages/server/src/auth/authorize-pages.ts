// The pages of an authorization request: sign-in, patient and encounter pickers, consent, and the error page shown
// when the app cannot be trusted with a redirect. Plain HTML forms (they work without JavaScript), each with a
// CSRF token; labels and button texts are stable ("Username", "Password", "Sign in", "Allow", "Deny").
import { html, type Html } from '../ui/html.ts';
import type { FastifyReply } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { csrfField, sendPage } from '../ui/layout.ts';
import type { ConsentGroup } from './consent-options.ts';
import type { EncounterChoice, PatientChoice } from './launch-pickers.ts';

export interface FormContext {
  action: string;
  csrf: string;
  appName: string;
}

export function loginForm(f: FormContext, o: { error?: string; username?: string; intro?: Html; returnTo?: string }): Html {
  return html`${o.intro ?? html`<p><strong>${f.appName}</strong> wants to connect to your health record. Sign in to continue.</p>`}
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="${f.action}">
${csrfField(f.csrf)}
<input type="hidden" name="step" value="login">
${o.returnTo ? html`<input type="hidden" name="return" value="${o.returnTo}">` : ''}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required value="${o.username ?? ''}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`;
}

/**
 * The sign-in page of one of Firekeeper's own sections (EHR, portal, admin console, connected apps): the same form
 * as the authorization flow's, posting `step=login` to the section, with a line saying what the section is for, and
 * the page the user asked for (`returnTo`), to go back to after signing in (see `returnPath`).
 */
export function sendSignInPage(
  reply: FastifyReply, o: { action: string; title: string; intro: string; error?: string; username?: string; returnTo?: string },
): FastifyReply {
  const body = loginForm({ action: o.action, csrf: reply.generateCsrf(), appName: '' }, { error: o.error, username: o.username, intro: html`<p>${o.intro}</p>`, returnTo: o.returnTo });
  return sendPage(reply, { title: o.title, status: o.error ? 401 : 200, body });
}

export function patientPicker(f: FormContext, o: { query: string; patients: PatientChoice[]; searchAction: string }): Html {
  return html`<p>Choose the patient whose record <strong>${f.appName}</strong> will open.</p>
<form method="get" action="${o.searchAction}">
<label for="name">Patient name</label>
<input type="search" id="name" name="name" value="${o.query}">
<button type="submit" class="secondary">Search</button>
</form>
${o.patients.length === 0 ? html`<p class="muted">No patients found.</p>` : html`<form method="post" action="${f.action}">
${csrfField(f.csrf)}
<input type="hidden" name="step" value="patient">
<ul class="choices">
${o.patients.map((p) => html`<li><button type="submit" name="patient" value="${p.id}" class="secondary">${p.name}</button>
<span class="muted">${[p.gender, p.birthDate && `born ${p.birthDate}`].filter(Boolean).join(', ')}</span></li>`)}
</ul>
</form>`}`;
}

export function encounterPicker(f: FormContext, o: { encounters: EncounterChoice[] }): Html {
  return html`<p>Choose the encounter <strong>${f.appName}</strong> will open.</p>
<form method="post" action="${f.action}">
${csrfField(f.csrf)}
<input type="hidden" name="step" value="encounter">
<ul class="choices">
${o.encounters.map((e) => html`<li><button type="submit" name="encounter" value="${e.id}" class="secondary">${e.label}</button>
<span class="muted">${e.start ?? ''}</span></li>`)}
</ul>
</form>`;
}

export function consentForm(f: FormContext, o: { groups: ConsentGroup[]; patientName?: string; userName: string }): Html {
  return html`<p><strong>${f.appName}</strong> is asking for access${o.patientName ? html` to the record of <strong>${o.patientName}</strong>` : ''}.
You are signed in as ${o.userName}. Untick anything you do not want to share.</p>
<form method="post" action="${f.action}">
${csrfField(f.csrf)}
<input type="hidden" name="step" value="consent">
${o.groups.map((g) => html`<fieldset>
<label><input type="checkbox" name="scope" value="${g.scope}" checked> <span>${g.description} <code>${g.scope}</code></span></label>
${g.alternatives.length ? html`<p class="muted sub">Or, if unticked above, only:</p>
${g.alternatives.map((a) => html`<label class="sub"><input type="checkbox" name="scope" value="${a.scope}"> <span>${a.description} <code>${a.scope}</code></span></label>`)}` : ''}
</fieldset>`)}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`;
}

export function errorPage(message: string): Html {
  return html`<p class="error" role="alert">${message}</p>
<p class="muted">You were not sent back to the app, because it could not be verified. Close this window and contact the app's developer.</p>`;
}

/**
 * Where to go after signing in to a section: the page the sign-in form says the user asked for, when it is a page of
 * that section on this server (a path under `section`, never another host: no open redirect); else the section.
 */
export function returnPath(form: URLSearchParams, section: string): string {
  const asked = form.get('return') ?? '';
  const local = (asked === section || asked.startsWith(`${section}/`) || asked.startsWith(`${section}?`)) && !/[\\\s]/.test(asked);
  return local ? asked : section;
}
