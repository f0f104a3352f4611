// The admin console's view of the audit trail: the filters (patient, user, app, time, outcome) become one FHIR
// AuditEvent search, run through the FHIR API as the administrator (`firekeeper-admin`, `user/AuditEvent.rs`), so
// the console sees exactly what that search returns, newest first, paged by the search's own `next` links. A patient
// filter alone is that patient's access history.
import { CLIENT_ID_SYSTEM, USER_ID_SYSTEM } from '../audit/audit-event.ts';
import type { User } from '../auth/users/user-store.ts';
import { isValidId } from '../fhir/validation.ts';
import { html, type Html } from '../ui/html.ts';
import { alertMessage } from '../ui/layout.ts';
import { ADMIN_PATH } from './admin-pages.ts';

export const AUDIT_PATH = `${ADMIN_PATH}/audit`;
const PAGE_SIZE = 50;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const OUTCOMES: Record<string, string> = { '0': 'success', '4': 'refused (4xx)', '8': 'failed (5xx)' };

export interface AuditFilters {
  patient: string;
  user: string;
  app: string;
  from: string;
  to: string;
  outcome: string;
  /** The search's own paging cursor, passed through. */
  cursor: string;
}

export function auditFilters(q: Record<string, unknown>): AuditFilters {
  const v = (k: string) => (typeof q[k] === 'string' ? (q[k] as string).trim().slice(0, 200) : '');
  return { patient: v('patient'), user: v('user'), app: v('app'), from: v('from'), to: v('to'), outcome: v('outcome'), cursor: v('_cursor') };
}

/**
 * The AuditEvent search for the filters, or a message saying which filter is malformed. `user` is a user found by
 * the console from the username typed (undefined when none was typed).
 */
export function auditSearch(f: AuditFilters, user: User | undefined): string | { error: string } {
  const p = new URLSearchParams({ _sort: '-date', _count: String(PAGE_SIZE) });
  if (f.patient) {
    const id = f.patient.replace(/^Patient\//, '');
    if (!isValidId(id)) return { error: 'Patient: a Patient id.' };
    p.append('patient', `Patient/${id}`);
  }
  // A user is an agent by their FHIR identity when they have one, else by their Firekeeper user id (audit-event.ts).
  if (user) p.append(user.fhirUser ? 'agent' : 'agent:identifier', user.fhirUser ?? `${USER_ID_SYSTEM}|${user.id}`);
  if (f.app) p.append('agent:identifier', `${CLIENT_ID_SYSTEM}|${f.app}`);
  for (const [value, prefix, label] of [[f.from, 'ge', 'From'], [f.to, 'le', 'To']] as const) {
    if (!value) continue;
    if (!DATE.test(value)) return { error: `${label}: a date, YYYY-MM-DD.` };
    p.append('date', `${prefix}${value}`);
  }
  if (f.outcome) {
    if (!Object.hasOwn(OUTCOMES, f.outcome)) return { error: 'Outcome: success, refused or failed.' };
    p.append('outcome', f.outcome);
  }
  if (f.cursor) p.append('_cursor', f.cursor);
  return `AuditEvent?${p}`;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR JSON, read defensively

export interface AuditRow {
  when: string;
  event: string;
  user: string;
  app: string;
  patients: string;
  target: string;
  address: string;
  outcome: string;
}

export function auditRows(bundle: Json | undefined): AuditRow[] {
  return ((bundle?.entry as Json[] | undefined) ?? []).map(({ resource: e }) => {
    const agents = (e.agent as Json[] | undefined) ?? [];
    const entities = (e.entity as Json[] | undefined) ?? [];
    const userAgent = agents.find((a) => a.requestor === true && a.who?.identifier?.system !== CLIENT_ID_SYSTEM);
    const subtype = (e.subtype as Json[] | undefined)?.[0];
    return {
      when: String(e.recorded ?? '').replace('T', ' ').slice(0, 19),
      event: subtype?.display ?? subtype?.code ?? e.type?.display ?? '',
      user: userAgent?.who?.reference ?? userAgent?.who?.identifier?.value ?? userAgent?.altId ?? '',
      app: agents.find((a) => a.who?.identifier?.system === CLIENT_ID_SYSTEM)?.who.identifier.value ?? '',
      patients: entities.filter((x) => x.role?.code === '1').map((x) => x.what?.reference).join(', '),
      target: entities.find((x) => x.role?.code === '4')?.what?.reference ?? '',
      address: agents.find((a) => a.network?.type === '2')?.network.address ?? '',
      outcome: `${OUTCOMES[e.outcome as string] ?? e.outcome}${e.outcomeDesc && e.outcome !== '0' ? `: ${e.outcomeDesc}` : ''}`,
    };
  });
}

/** The search's `next` link as a console link (its `_cursor` kept, the filters repeated). */
export function nextPage(bundle: Json | undefined, f: AuditFilters): string | undefined {
  const next = ((bundle?.link as Json[] | undefined) ?? []).find((l) => l.relation === 'next')?.url as string | undefined;
  const cursor = next ? new URL(next).searchParams.get('_cursor') : null;
  if (!cursor) return undefined;
  const q = new URLSearchParams(Object.entries({ patient: f.patient, user: f.user, app: f.app, from: f.from, to: f.to, outcome: f.outcome }).filter(([, v]) => v !== ''));
  q.set('_cursor', cursor);
  return `${AUDIT_PATH}?${q}`;
}

export function auditBody(f: AuditFilters, rows: readonly AuditRow[] | { error: string }, next: string | undefined): Html {
  const field = (name: keyof AuditFilters, label: string, hint: string) => html`<div><label for="${name}">${label}</label>
<input type="text" id="${name}" name="${name}" value="${f[name]}" placeholder="${hint}"></div>`;
  return html`<p><a href="${ADMIN_PATH}">Apps</a></p>
<form method="get" action="${AUDIT_PATH}" class="filters">
${field('patient', 'Patient', 'Patient id')}
${field('user', 'User', 'username')}
${field('app', 'App', 'client_id')}
${field('from', 'From', 'YYYY-MM-DD')}
${field('to', 'To', 'YYYY-MM-DD')}
<div><label for="outcome">Outcome</label><select id="outcome" name="outcome"><option value="">any</option>
${Object.entries(OUTCOMES).map(([code, label]) => html`<option value="${code}"${f.outcome === code ? html` selected` : ''}>${label}</option>`)}</select></div>
<div><button type="submit">Filter</button></div>
</form>
${'error' in rows ? alertMessage(rows.error) : rows.length === 0 ? html`<p class="muted">No audit record matches.</p>` : html`<table>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Event</th><th scope="col">User</th><th scope="col">App</th><th scope="col">Patient</th><th scope="col">Resource</th><th scope="col">From</th><th scope="col">Outcome</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${r.when}</td><td>${r.event}</td><td>${r.user}</td><td>${r.app}</td><td>${r.patients}</td><td>${r.target}</td><td>${r.address}</td><td>${r.outcome}</td></tr>`)}</tbody>
</table>
${next ? html`<p><a href="${next}">Older records</a></p>` : ''}`}`;
}
