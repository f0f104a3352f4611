// {base}/: the front door. A browser gets a page saying what Firekeeper is and where everything is; in sandbox mode
// it also lists the sample accounts that exist (published development passwords), how to register an app, and the
// token inspector. Anything else
// (a script asking for JSON) gets the short JSON index it always had.
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../store/database.ts';
import { SANDBOX_ADMIN_TOKEN, SANDBOX_CREDENTIALS, type Config } from '../config.ts';
import { html, type Html } from './html.ts';
import { sendPage } from './layout.ts';

export interface HomePageOptions {
  db: Queryable;
  config: Config;
  fhirBase: string;
}

export async function homePage(app: FastifyInstance, opts: HomePageOptions): Promise<void> {
  const { config, fhirBase } = opts;
  const base = config.baseUrl;
  app.get('/', async (request, reply) => {
    if (!prefersHtml(request.headers.accept)) return { name: 'Firekeeper', fhir: fhirBase, metadata: `${fhirBase}/metadata` };
    const accounts = config.mode === 'sandbox' ? await sandboxAccounts(opts.db) : [];
    const body = html`<p>Firekeeper is an open SMART on FHIR platform: a FHIR R4 server, a SMART App Launch 2.2 authorization
server that enforces every scope, launch context and patient privacy choice, an audit trail that loses nothing, and a
simulated EHR to launch apps from.</p>
${config.mode === 'sandbox' ? html`<p class="error" role="note">Sandbox mode: sample data and published passwords. Do not put real patient data here.</p>` : ''}
<h2>Start here</h2>
<ul class="facts">
<li><a href="/ehr">The EHR</a>: open a patient's chart and launch an app (clinicians).</li>
<li><a href="/admin">The admin console</a>: register and vet apps, manage users and their access, read the audit trail (administrators).</li>
<li><a href="/portal">The patient portal</a>: your record, the apps you have connected, who has looked at it, and your privacy preferences (patients).</li>
<li>SMART discovery: <code>${fhirBase}/.well-known/smart-configuration</code></li>
<li>FHIR base: <code>${fhirBase}</code> (CapabilityStatement: <a href="${fhirBase}/metadata">metadata</a>)</li>
</ul>
${config.mode === 'sandbox' ? sandboxSection(accounts, base) : ''}`;
    return sendPage(reply, { title: 'Firekeeper', body });
  });
}

/** Whether the client asked for HTML before JSON (a browser), by the Accept header's order and q-values. */
function prefersHtml(accept: string | undefined): boolean {
  let best: { html: boolean; q: number } | undefined;
  for (const part of (accept ?? '').split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    const isHtml = type === 'text/html';
    if ((isHtml || type === 'application/json') && (best === undefined || q > best.q)) best = { html: isHtml, q };
  }
  return best?.html ?? false;
}

async function sandboxAccounts(db: Queryable): Promise<{ username: string; password: string; role: string; name: string }[]> {
  const rows = await db.query<{ username: string; name: string }>('SELECT username, name FROM users WHERE username = ANY($1::text[])', [SANDBOX_CREDENTIALS.map((c) => c.username)]);
  const names = new Map(rows.map((r) => [r.username, r.name]));
  return SANDBOX_CREDENTIALS.filter((c) => names.has(c.username)).map((c) => ({ ...c, name: names.get(c.username)! }));
}

function sandboxSection(accounts: { username: string; password: string; role: string; name: string }[], base: string): Html {
  return html`${accounts.length === 0 ? '' : html`<h2>Sample accounts</h2>
<table>
<thead><tr><th scope="col">Username</th><th scope="col">Password</th><th scope="col">Role</th><th scope="col">Name</th></tr></thead>
<tbody>${accounts.map((a) => html`<tr><td><code>${a.username}</code></td><td><code>${a.password}</code></td><td>${a.role}</td><td>${a.name}</td></tr>`)}</tbody>
</table>`}
<h2>Register your app</h2>
<p>With the sandbox admin token (an app registered this way is active at once):</p>
<pre tabindex="0"><code>curl -X POST ${base}/admin/api/clients -H 'Authorization: Bearer ${SANDBOX_ADMIN_TOKEN}' \\
     -H 'content-type: application/json' \\
     -d '{"name":"My app","type":"public","redirectUris":["http://127.0.0.1:3000/callback"],
          "launchUrl":"http://127.0.0.1:3000/launch","scopes":["launch","openid","fhirUser","patient/*.rs"]}'</code></pre>
<p>Or by RFC 7591 dynamic registration at <code>${base}/auth/register</code> (the app waits for an administrator's approval).</p>
<h2>Debugging</h2>
<p>The <a href="/inspect">token inspector</a> checks and explains an access token or id_token from this server.</p>`;
}
