// {base}/inspect (sandbox mode only): a token inspector for app developers. Paste an access token or id_token; the
// page checks its signature against this server's keys (the ones its JWKS publishes), its issuer and expiry, and
// explains its claims: who, which app, which scopes in words, which launch context. The token travels in a POST
// body (never a URL), is not stored or logged, and the answer is not cached.
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/csrf-protection';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { KeyRing } from '../auth/key-ring.ts';
import { registerFormParser } from '../auth/form-body.ts';
import { describeScope } from '../access/scope-grammar.ts';
import { html, type Html } from './html.ts';
import { alertMessage, csrfField, installPageErrorHandler, sendPage } from './layout.ts';

export const INSPECT_PATH = '/inspect';
const MAX_TOKEN_LENGTH = 16_384;

export interface TokenInspectorOptions {
  keys: KeyRing;
  issuer: string;
}

/** What the inspector found: the decoded parts, and whether and why the signature and claims hold. */
export interface Inspection {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  kind: 'access token' | 'id_token' | 'unknown';
  /** `valid`, or why not (bad signature, unknown key, expired, another issuer). */
  verdict: string;
}

export async function tokenInspector(app: FastifyInstance, opts: TokenInspectorOptions): Promise<void> {
  registerFormParser(app);
  installPageErrorHandler(app, 'token inspector');
  app.get(INSPECT_PATH, async (_request, reply) => sendPage(reply, { title: 'Token inspector', body: form(reply.generateCsrf()) }));
  app.post(INSPECT_PATH, { preHandler: app.csrfProtection }, async (request, reply) => {
    const token = (request.body instanceof URLSearchParams ? request.body.get('token') ?? '' : '').trim();
    const csrf = reply.generateCsrf();
    const inspection = token.length > 0 && token.length <= MAX_TOKEN_LENGTH ? await inspectToken(token, opts) : undefined;
    const body = inspection
      ? html`${form(csrf)}${report(inspection)}`
      : html`${form(csrf)}${alertMessage('That is not a JSON Web Token (three base64url parts separated by dots).')}`;
    return sendPage(reply, { title: 'Token inspector', status: inspection ? 200 : 400, body });
  });
}

/** Decodes and verifies a token; undefined when it is not a JWT at all. */
export async function inspectToken(token: string, opts: TokenInspectorOptions): Promise<Inspection | undefined> {
  let header: ProtectedHeaderParameters, claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    return undefined;
  }
  // RFC 9068 §2.1: access tokens are typed at+jwt; an id_token names its app as the audience and carries no scope.
  const kind = header.typ === 'at+jwt' ? 'access token' : claims.scope === undefined && typeof claims.aud === 'string' ? 'id_token' : 'unknown';
  return { header, claims, kind, verdict: await verdict(token, opts) };
}

async function verdict(token: string, opts: TokenInspectorOptions): Promise<string> {
  try {
    await jwtVerify(token, opts.keys.verificationKey, { issuer: opts.issuer });
    return 'valid';
  } catch (err) {
    if (err instanceof errors.JWTExpired) return 'signature valid, but expired';
    if (err instanceof errors.JWTClaimValidationFailed) return `signature valid, but the ${err.claim} claim is not this server's`;
    if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid signature: not signed by this server';
    return `not verifiable by this server: ${(err as Error).message}`;
  }
}

function form(csrf: string): Html {
  return html`<p>Paste an access token or id_token issued by this server. It is checked against the keys published at
<a href="/.well-known/jwks.json">/.well-known/jwks.json</a>, explained, and not kept.</p>
<form method="post" action="${INSPECT_PATH}">
${csrfField(csrf)}
<label for="token">Token</label>
<textarea id="token" name="token" rows="6" required spellcheck="false" autocomplete="off"></textarea>
<button type="submit">Inspect</button>
</form>`;
}

const CONTEXT_CLAIMS = ['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant', 'fhirUser'];

function report(i: Inspection): Html {
  const c = i.claims;
  const when = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString() : undefined);
  const scopes = typeof c.scope === 'string' ? c.scope.split(' ').filter(Boolean) : [];
  const rows: [string, unknown][] = [
    ['Kind', i.kind], ['Signature', i.verdict], ['Algorithm, key', `${i.header.alg ?? '?'}, kid ${i.header.kid ?? '(none)'}`],
    ['Issuer', c.iss], ['Subject', c.sub], ['Audience', Array.isArray(c.aud) ? c.aud.join(', ') : c.aud], ['App (client_id)', c.client_id ?? (i.kind === 'id_token' ? c.aud : undefined)],
    ['Issued', when(c.iat)], ['Expires', when(c.exp)], ['Token id (jti)', c.jti],
    ...CONTEXT_CLAIMS.filter((k) => c[k] !== undefined).map((k): [string, unknown] => [k, typeof c[k] === 'string' ? c[k] : JSON.stringify(c[k])]),
  ];
  return html`<h2>${i.verdict === 'valid' ? 'Valid' : 'Not valid'}</h2>
${i.verdict === 'valid' ? '' : alertMessage(i.verdict)}
<table><tbody>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${String(v)}</td></tr>`)}</tbody></table>
${scopes.length > 0 ? html`<h2>Scopes</h2><ul class="facts">${scopes.map((s) => html`<li><code>${s}</code>: ${describeScope(s)}</li>`)}</ul>` : ''}
<h2>All claims</h2><pre tabindex="0"><code>${JSON.stringify(c, null, 2)}</code></pre>`;
}
