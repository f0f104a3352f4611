// The admin console's pages: the app registry (apps waiting for approval first), the registration form, and the
// page that shows a new client secret once. Plain forms with CSRF tokens, no scripts.
import type { Client } from '../auth/clients/client-store.ts';
import type { AppGrant } from '../auth/grant-store.ts';
import { html, type Html } from '../ui/html.ts';
import { alertMessage, csrfField } from '../ui/layout.ts';

export const ADMIN_PATH = '/admin';
/** The built-in client the console reads the audit trail as (ui/fhir-as-user.ts). */
export const ADMIN_CLIENT_ID = 'firekeeper-admin';
export const NEW_APP_PATH = `${ADMIN_PATH}/apps/new`;
export const APPS_PATH = `${ADMIN_PATH}/apps`;
export const appPath = (clientId: string) => `${APPS_PATH}/${encodeURIComponent(clientId)}`;
export const appActionPath = (clientId: string, action: AppAction) => `${appPath(clientId)}/${action}`;
export const grantRevokePath = (clientId: string, grantId: string) => `${appPath(clientId)}/grants/${encodeURIComponent(grantId)}/revoke`;

export type AppAction = 'approve' | 'suspend' | 'activate' | 'delete' | 'rotate-secret' | 'revoke-grants';

const TYPES: [Client['type'], string][] = [
  ['public', 'Public (browser or mobile app, PKCE only)'],
  ['confidential-symmetric', 'Confidential, client secret'],
  ['confidential-asymmetric', 'Confidential, private key JWT (JWKS)'],
  ['backend-service', 'Backend service (client_credentials, JWKS)'],
];

function postButton(csrf: string, action: string, label: string, secondary = true): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}<button type="submit" class="${secondary ? 'secondary' : ''}" aria-label="${label}">${label.split(' ')[0]}</button></form>`;
}

const actionButton = (csrf: string, clientId: string, action: AppAction, label: string, secondary = true) => postButton(csrf, appActionPath(clientId, action), label, secondary);

export function registryBody(clients: readonly Client[], csrf: string): Html {
  const pending = clients.filter((c) => c.status === 'pending');
  return html`<p><a href="${NEW_APP_PATH}">Register an app</a> · <a href="${ADMIN_PATH}/users">Users</a> · <a href="${ADMIN_PATH}/audit">Audit trail</a></p>
<section aria-labelledby="pending"><h2 id="pending">Waiting for approval</h2>
${pending.length === 0 ? html`<p class="muted">No app is waiting.</p>` : html`<ul class="choices">
${pending.map((c) => html`<li><strong>${c.name}</strong> <span class="muted">${c.type}, redirect ${c.redirectUris.join(', ') || '—'}, scopes ${c.scopes.join(' ') || '—'}</span>
<div class="actions">${actionButton(csrf, c.clientId, 'approve', `Approve ${c.name}`, false)} ${actionButton(csrf, c.clientId, 'delete', `Delete ${c.name}`)}</div></li>`)}
</ul>`}
</section>
<section aria-labelledby="apps"><h2 id="apps">Apps</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">client_id</th><th scope="col">Actions</th></tr></thead>
<tbody>${clients.map((c) => html`<tr><td><a href="${appPath(c.clientId)}">${c.name}</a></td><td>${c.type}</td><td>${c.status}</td><td><code>${c.clientId}</code></td><td><div class="actions">
${c.status === 'active' ? actionButton(csrf, c.clientId, 'suspend', `Suspend ${c.name}`) : c.status === 'suspended' ? actionButton(csrf, c.clientId, 'activate', `Activate ${c.name}`) : ''}
${c.type === 'confidential-symmetric' ? actionButton(csrf, c.clientId, 'rotate-secret', `Rotate secret of ${c.name}`) : ''}
${actionButton(csrf, c.clientId, 'delete', `Delete ${c.name}`)}</div></td></tr>`)}</tbody>
</table>
</section>`;
}

/** The registration form's fields, as typed (re-shown after an error). */
export type AppForm = Record<'name' | 'type' | 'redirectUris' | 'launchUrl' | 'launchMode' | 'scopes' | 'jwksUri' | 'jwks' | 'corsOrigins' | 'accessTokenLifetime' | 'refreshTokenLifetime', string> & { refresh: boolean };

export const EMPTY_APP_FORM: AppForm = {
  name: '', type: 'public', redirectUris: '', launchUrl: '', launchMode: 'window', scopes: 'launch openid fhirUser patient/*.rs', jwksUri: '', jwks: '', corsOrigins: '',
  accessTokenLifetime: '', refreshTokenLifetime: '', refresh: true,
};

/** The registration form; with `edit`, the form that changes that app (its type cannot change). */
export function registrationForm(f: AppForm, csrf: string, error?: string, edit?: Client): Html {
  const text = (name: keyof AppForm, label: string, hint = '') => html`<label for="${name}">${label}</label>${hint ? html`<span class="muted">${hint}</span>` : ''}
<input type="text" id="${name}" name="${name}" value="${String(f[name])}">`;
  const area = (name: keyof AppForm, label: string, hint: string) => html`<label for="${name}">${label}</label><span class="muted">${hint}</span>
<textarea id="${name}" name="${name}" rows="3">${String(f[name])}</textarea>`;
  return html`${error ? alertMessage(error) : ''}
<form method="post" action="${edit ? `${appPath(edit.clientId)}/edit` : APPS_PATH}">
${csrfField(csrf)}
${text('name', 'Name')}
${edit ? html`<p>Type <strong>${edit.type}</strong></p><input type="hidden" name="type" value="${edit.type}">` : html`<label for="type">Type</label>
<select id="type" name="type">${TYPES.map(([v, label]) => html`<option value="${v}"${v === f.type ? html` selected` : ''}>${label}</option>`)}</select>`}
${area('redirectUris', 'Redirect URIs', 'one per line; exact match, https (http only on loopback)')}
${text('launchUrl', 'Launch URL', 'where the EHR opens the app (EHR launch)')}
<label for="launchMode">Opens from the EHR</label>
<select id="launchMode" name="launchMode">${([['window', 'in a new window'], ['embedded', 'embedded in the chart']] as const).map(([v, label]) => html`<option value="${v}"${v === f.launchMode ? html` selected` : ''}>${label}</option>`)}</select>
${text('scopes', 'Allowed scopes', 'space-separated')}
<fieldset><legend>Refresh tokens</legend><label><input type="checkbox" name="refresh" value="yes"${f.refresh ? html` checked` : ''}> Allow the refresh_token grant (interactive apps)</label></fieldset>
${text('jwksUri', 'JWKS URL', 'private key JWT and backend services: where the app publishes its public keys')}
${area('jwks', 'JWKS', 'or the key set itself, as JSON {"keys": [...]}')}
${area('corsOrigins', 'CORS origins', 'one per line: origins whose browsers may call the token endpoint')}
${text('accessTokenLifetime', 'Access token lifetime (seconds)', 'empty for the default')}
${text('refreshTokenLifetime', 'Refresh token lifetime (seconds)', 'empty for the default')}
<button type="submit">${edit ? 'Save' : 'Register'}</button>
</form>`;
}

/** An app's settings as the form shows them. */
export function appFormOf(c: Client): AppForm {
  return {
    name: c.name, type: c.type, redirectUris: c.redirectUris.join('\n'), launchUrl: c.launchUrl ?? '', launchMode: c.launchMode, scopes: c.scopes.join(' '),
    jwksUri: c.jwksUri ?? '', jwks: c.jwks ? JSON.stringify(c.jwks) : '', corsOrigins: c.corsOrigins.join('\n'),
    accessTokenLifetime: String(c.accessTokenLifetime), refreshTokenLifetime: String(c.refreshTokenLifetime), refresh: c.grantTypes.includes('refresh_token'),
  };
}

/** A client secret, shown this once. */
export function secretBody(client: Client, secret: string | undefined, headline: string): Html {
  return html`<p>${headline}: <strong>${client.name}</strong>, client_id <code>${client.clientId}</code>.</p>
${secret ? html`<p class="error" role="alert">Copy the client secret now: it is stored only as a hash and will not be shown again.</p>
<pre tabindex="0"><code>${secret}</code></pre>` : ''}
<p><a href="${ADMIN_PATH}">Back to the apps</a></p>`;
}

/** One app: its registration, and the grants users gave it, each revocable (and all at once). */
export function appDetailBody(c: Client, grants: readonly AppGrant[], csrf: string): Html {
  const list = (v: readonly string[]) => (v.length === 0 ? '—' : v.join(', '));
  const facts: [string, string][] = [
    ['client_id', c.clientId], ['Type', c.type], ['Status', c.status], ['Client authentication', c.authMethod],
    ['Redirect URIs', list(c.redirectUris)], ['Launch URL', c.launchUrl ?? '—'], ['Opens from the EHR', c.launchMode === 'embedded' ? 'embedded in the chart' : 'in a new window'], ['Allowed scopes', c.scopes.join(' ') || '—'],
    ['Grant types', list(c.grantTypes)], ['JWKS', c.jwksUri ?? (c.jwks ? `${c.jwks.keys.length} key(s) registered` : '—')],
    ['Token lifetimes', `access ${c.accessTokenLifetime} s, refresh ${c.refreshTokenLifetime} s`], ['CORS origins', list(c.corsOrigins)],
  ];
  return html`<p><a href="${ADMIN_PATH}">All apps</a> · <a href="${appPath(c.clientId)}/edit">Edit</a></p>
<table><tbody>${facts.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
<section aria-labelledby="grants"><h2 id="grants">Active grants</h2>
${grants.length === 0 ? html`<p class="muted">No user has a live grant to this app.</p>` : html`<table>
<thead><tr><th scope="col">User</th><th scope="col">Scopes</th><th scope="col">Since</th><th scope="col">Live access tokens</th><th scope="col">Live refresh tokens</th><th scope="col"></th></tr></thead>
<tbody>${grants.map((g) => html`<tr><td>${g.user}</td><td>${g.scope}</td><td>${g.createdAt}</td><td>${g.liveAccessTokens}</td><td>${g.liveRefreshTokens}</td>
<td><div class="actions">${postButton(csrf, grantRevokePath(c.clientId, g.id), `Revoke grant of ${g.user}`)}</div></td></tr>`)}</tbody>
</table>
<div class="actions">${actionButton(csrf, c.clientId, 'revoke-grants', `Revoke all grants of ${c.name}`, false)}</div>`}
<p class="muted">Revoking stops the grant's refresh tokens at once and its access tokens within a second.</p>
</section>`;
}
