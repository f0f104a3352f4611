// The simulated EHR's pages: the patient list and the chart with its Apps panel. Plain HTML forms, no scripts (the
// Content-Security-Policy allows none); the vital-signs charts are inline SVG drawn on the server.
import { html, type Html } from '../ui/html.ts';
import { csrfField } from '../ui/layout.ts';
import type { PatientChoice } from '../auth/launch-pickers.ts';
import type { Banner, Chart, Row, VitalSeries } from './chart.ts';

export const EHR_PATH = '/ehr';
/** The built-in client the EHR reads the FHIR API as (ui/fhir-as-user.ts), with `user/*.rs`. */
export const EHR_CLIENT_ID = 'firekeeper-ehr';
export const chartPath = (patientId: string) => `${EHR_PATH}/patients/${encodeURIComponent(patientId)}`;

export interface LaunchableApp {
  clientId: string;
  name: string;
  /** The origin of its launch URL. */
  origin: string;
  /** Opened in a window of its own, or embedded in the chart. */
  mode: 'window' | 'embedded';
}

export const embeddedPath = (patientId: string, clientId: string, launchId: string) =>
  `${chartPath(patientId)}/apps/${encodeURIComponent(clientId)}/${encodeURIComponent(launchId)}`;

export function signOutForm(csrf: string, userName: string, action = EHR_PATH): Html {
  return html`<form method="post" action="${action}" class="inline">
${csrfField(csrf)}<input type="hidden" name="step" value="logout">
<span class="muted">Signed in as ${userName}.</span> <button type="submit" class="link">Sign out</button>
</form>`;
}

export function patientList(o: { query: string; patients: PatientChoice[] }): Html {
  return html`<form method="get" action="${EHR_PATH}" role="search">
<label for="name">Find a patient by name</label>
<input type="search" id="name" name="name" value="${o.query}">
<button type="submit" class="secondary">Search</button>
</form>
${o.patients.length === 0 ? html`<p class="muted">No patients found.</p>` : html`<ul class="choices">
${o.patients.map((p) => html`<li><a href="${chartPath(p.id)}">${p.name}</a>
<span class="muted">${[p.gender, p.birthDate && `born ${p.birthDate}`].filter(Boolean).join(', ')}</span></li>`)}
</ul>`}`;
}

export function chartBody(chart: Chart, apps: readonly LaunchableApp[], csrf: string): Html {
  return recordSummary(chart, appsPanel(chart, apps, csrf));
}

/** The banner, then problems, medications, allergies and encounters beside the vital signs (and `aside` under them). */
export function recordSummary(chart: Chart, aside: Html | '' = ''): Html {
  return html`${bannerHtml(chart.banner)}
<div class="columns">
<div>
${section('Problems', chart.problems, chart.refused)}
${section('Medications', chart.medications, chart.refused)}
${section('Allergies', chart.allergies, chart.refused)}
${section('Encounters', chart.encounters, chart.refused)}
</div>
<div>
<section aria-labelledby="vitals"><h2 id="vitals">Vital signs</h2>
${chart.refused.includes('Vital signs') ? refusedNote() : chart.vitals.length === 0 ? html`<p class="muted">None recorded.</p>` : chart.vitals.map(vitalChart)}
</section>
${aside}
</div>
</div>`;
}

function bannerHtml(b: Banner): Html {
  const facts = [b.gender, b.age !== undefined ? `${b.age} years` : undefined, b.birthDate && `born ${b.birthDate}`, b.mrn && `MRN ${b.mrn}`].filter(Boolean);
  return html`<div class="patient-banner" role="region" aria-label="Patient"><strong>${b.name}</strong> <span>${facts.join(' · ')}</span></div>`;
}

const refusedNote = () => html`<p class="muted">Not available to you.</p>`;

function section(title: string, rows: readonly Row[], refused: readonly string[]): Html {
  const id = title.toLowerCase();
  const content = refused.includes(title) ? refusedNote()
    : rows.length === 0 ? html`<p class="muted">None recorded.</p>`
      : html`<ul class="facts">${rows.map((r) => html`<li>${r.text}${r.detail ? html` <span class="muted">${r.detail}</span>` : ''}${r.date ? html` <span class="muted">${r.date}</span>` : ''}</li>`)}</ul>`;
  return html`<section aria-labelledby="${id}"><h2 id="${id}">${title}</h2>${content}</section>`;
}

const W = 280, H = 64;

/** A line chart of one vital sign over time (oldest to newest), with its range and latest value in words. */
function vitalChart(s: VitalSeries): Html {
  const values = s.points.map((p) => p.value);
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const x = (i: number) => (s.points.length === 1 ? W / 2 : (i * W) / (s.points.length - 1));
  const y = (v: number) => H - 4 - ((v - lo) * (H - 8)) / span;
  const line = s.points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const last = s.points[s.points.length - 1]!;
  const summary = `${s.label}: latest ${fmt(last.value)} ${s.unit} on ${last.date.slice(0, 10)}; range ${fmt(lo)}–${fmt(hi)} ${s.unit} over ${s.points.length} measurements`;
  return html`<figure class="vital">
<figcaption>${s.label} <strong>${fmt(last.value)} ${s.unit}</strong> <span class="muted">${last.date.slice(0, 10)}</span></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${summary}"><polyline fill="none" stroke="#b4441e" stroke-width="2" points="${line}"/></svg>
<span class="muted">${fmt(lo)}–${fmt(hi)} ${s.unit}, ${s.points.length} measurements from ${s.points[0]!.date.slice(0, 10)}</span>
</figure>`;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function appsPanel(chart: Chart, apps: readonly LaunchableApp[], csrf: string): Html {
  const action = `${chartPath(chart.banner.id)}/launch`;
  return html`<section aria-labelledby="apps"><h2 id="apps">Apps</h2>
${apps.length === 0 ? html`<p class="muted">No app is registered for the EHR launch.</p>` : html`<form method="post" action="${action}">
${csrfField(csrf)}
<label for="encounter">Encounter in context</label>
<select id="encounter" name="encounter">
<option value="">None</option>
${chart.encounters.map((e) => html`<option value="${e.id}">${e.date ?? ''} ${e.text}</option>`)}
</select>
<ul class="choices">
${apps.map((a) => html`<li><button type="submit" name="client_id" value="${a.clientId}" class="secondary"${a.mode === 'window' ? html` formtarget="_blank"` : ''}>Launch ${a.name}</button>
<span class="muted">${a.mode === 'window' ? 'new window' : 'in the chart'}</span></li>`)}
</ul>
<p class="muted">Apps open with this patient (and the encounter chosen) in context.</p>
</form>`}
</section>`;
}

/**
 * An app embedded in the chart, under the EHR's banner: a sandboxed iframe (scripts, forms and its own origin's
 * storage, popups for its sign-in if it wants one; no top-level navigation, no device permissions).
 */
export function embeddedAppBody(chart: Chart, appName: string, url: string): Html {
  return html`${bannerHtml(chart.banner)}
<p><a href="${chartPath(chart.banner.id)}">Back to the chart</a></p>
<iframe class="embedded-app" src="${url}" title="${appName}" sandbox="allow-scripts allow-forms allow-same-origin allow-popups allow-popups-to-escape-sandbox" allow="" referrerpolicy="no-referrer"></iframe>`;
}
