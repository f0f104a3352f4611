// The patient portal's page: the record summary, the apps the patient has connected (scopes in words, revoke), who
// has looked at the record and through which app (from the audit trail), privacy preferences, and the apps the
// patient can open themselves (standalone launch). Plain forms with CSRF tokens, no scripts.
import { describeScope } from '../access/scope-grammar.ts';
import type { AuthorizedApp } from '../auth/grant-store.ts';
import type { Chart } from '../ehr/chart.ts';
import { recordSummary, signOutForm } from '../ehr/ehr-pages.ts';
import { html, type Html } from '../ui/html.ts';
import { csrfField } from '../ui/layout.ts';
import { WITHHOLD, type Preference } from './privacy-preferences.ts';

export const PORTAL_PATH = '/portal';
/** The built-in client the portal reaches the FHIR API as (ui/fhir-as-user.ts). */
export const PORTAL_CLIENT_ID = 'firekeeper-portal';

export interface AccessEntry {
  when: string;
  app: string;
  who: string;
  what: string;
  allowed: boolean;
}

export interface StandaloneApp {
  name: string;
  url: string;
}

export interface PortalView {
  userName: string;
  chart: Chart;
  apps: (AuthorizedApp & { lastUsed?: string })[];
  history: AccessEntry[];
  preferences: Preference[];
  /** Apps a preference can name: client_id → name. */
  appNames: ReadonlyMap<string, string>;
  standalone: StandaloneApp[];
}

export function portalBody(v: PortalView, csrf: string): Html {
  return html`${signOutForm(csrf, v.userName, PORTAL_PATH)}
${recordSummary(v.chart)}
${connectedApps(v, csrf)}
${accessHistory(v.history)}
${preferences(v, csrf)}
${standaloneApps(v.standalone)}`;
}

function step(csrf: string, name: string): Html {
  return html`${csrfField(csrf)}<input type="hidden" name="step" value="${name}">`;
}

function connectedApps(v: PortalView, csrf: string): Html {
  return html`<section aria-labelledby="connected"><h2 id="connected">Apps you have connected</h2>
${v.apps.length === 0 ? html`<p class="muted">No app has access to your record.</p>` : html`<ul class="choices">
${v.apps.map((a) => html`<li><strong>${a.name}</strong> <span class="muted">connected ${a.grantedAt}${a.lastUsed ? `, last used ${a.lastUsed}` : ''}</span>
<ul class="facts">${a.scope.split(' ').filter(Boolean).map((s) => html`<li>${describeScope(s)}</li>`)}</ul>
<form method="post" action="${PORTAL_PATH}">${step(csrf, 'revoke')}<input type="hidden" name="client_id" value="${a.clientId}">
<button type="submit" class="secondary">Disconnect ${a.name}</button></form></li>`)}
</ul>`}
</section>`;
}

function accessHistory(history: readonly AccessEntry[]): Html {
  return html`<section aria-labelledby="history"><h2 id="history">Who has looked at your record</h2>
${history.length === 0 ? html`<p class="muted">Nobody yet.</p>` : html`<table>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">App</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Result</th></tr></thead>
<tbody>${history.map((e) => html`<tr><td>${e.when}</td><td>${e.app}</td><td>${e.who}</td><td>${e.what}</td><td>${e.allowed ? 'allowed' : 'refused'}</td></tr>`)}</tbody>
</table>`}
</section>`;
}

function preferences(v: PortalView, csrf: string): Html {
  const appName = (id: string | null) => (id === null ? 'any app' : v.appNames.get(id) ?? id);
  return html`<section aria-labelledby="privacy"><h2 id="privacy">Privacy preferences</h2>
${v.preferences.length === 0 ? html`<p class="muted">You share your whole record with the apps you connect.</p>` : html`<ul class="choices">
${v.preferences.map((p, i) => html`<li>Do not share ${WITHHOLD[p.withhold].label} with <strong>${appName(p.clientId)}</strong>
<form method="post" action="${PORTAL_PATH}" class="inline">${step(csrf, 'remove-preference')}<input type="hidden" name="index" value="${i}">
<button type="submit" class="link">Remove</button></form></li>`)}
</ul>`}
<form method="post" action="${PORTAL_PATH}">
${step(csrf, 'add-preference')}
<label for="withhold">Do not share</label>
<select id="withhold" name="withhold">${Object.entries(WITHHOLD).map(([k, w]) => html`<option value="${k}">${w.label}</option>`)}</select>
<label for="client_id">With</label>
<select id="client_id" name="client_id"><option value="">any app</option>${[...v.appNames].map(([id, name]) => html`<option value="${id}">${name}</option>`)}</select>
<button type="submit">Add preference</button>
</form>
</section>`;
}

function standaloneApps(apps: readonly StandaloneApp[]): Html {
  return html`<section aria-labelledby="standalone"><h2 id="standalone">Apps you can open yourself</h2>
${apps.length === 0 ? html`<p class="muted">No app offers a standalone launch.</p>` : html`<ul class="facts">${apps.map((a) => html`<li><a href="${a.url}" rel="noopener">${a.name}</a></li>`)}</ul>`}
</section>`;
}
