// What the app shows for the launch patient: the banner (only when the EHR asks for it), vital-sign charts, active
// medications, allergies and the adverse-reaction check. Each section is read only if the user granted its scope;
// a section that was not granted, or that the server refused, says so and why instead of failing the page.
import { FhirError, type FhirClient, type LaunchContext } from '@firekeeper/client';
import type { AllergyIntolerance, Condition, HumanName, MedicationRequest, Observation, Patient } from 'fhir/r4.js';
import { adverseReactionAlerts, type Alert } from './adverse-reactions.ts';
import { lineChart, type Point } from './charts.ts';
import { esc } from './html.ts';
import { NEEDED, readable, type NeededType } from './scopes.ts';

const LOINC = 'http://loinc.org';
const VITALS = { bp: '85354-9', heartRate: '8867-4', weight: '29463-7' };

export interface PatientRecordView {
  patient?: Patient;
  observations: Observation[];
  medications: MedicationRequest[];
  allergies: AllergyIntolerance[];
  conditions: Condition[];
  /** Sections not shown: the type, and why. */
  missing: { type: NeededType; reason: string }[];
  alerts: Alert[];
}

export async function loadPatientRecord(fhir: FhirClient, patientId: string, grantedScope: string): Promise<PatientRecordView> {
  const missing: PatientRecordView['missing'] = [];
  const section = async <T>(type: NeededType, load: () => Promise<T>, none: T): Promise<T> => {
    if (!readable(grantedScope, type)) {
      missing.push({ type, reason: 'you did not allow this app to read them' });
      return none;
    }
    try {
      return await load();
    } catch (err) {
      if (!(err instanceof FhirError) || err.status !== 403) throw err;
      missing.push({ type, reason: `the server refused (${err.outcome?.issue?.[0]?.diagnostics ?? 'forbidden'})` });
      return none;
    }
  };
  const [patient, observations, medications, allergies, conditions] = await Promise.all([
    section<Patient | undefined>('Patient', () => fhir.read('Patient', patientId), undefined),
    section('Observation', () => fhir.searchAll('Observation', { patient: patientId, code: Object.values(VITALS).map((c) => `${LOINC}|${c}`).join(','), _count: '200' }), [] as Observation[]),
    section('MedicationRequest', () => fhir.searchAll('MedicationRequest', { patient: patientId, status: 'active', _count: '200' }), [] as MedicationRequest[]),
    section('AllergyIntolerance', () => fhir.searchAll('AllergyIntolerance', { patient: patientId, _count: '200' }), [] as AllergyIntolerance[]),
    section('Condition', () => fhir.searchAll('Condition', { patient: patientId, _count: '200' }), [] as Condition[]),
  ]);
  const weights = observations.filter((o) => hasCode(o, VITALS.weight));
  return { patient, observations, medications, allergies, conditions, missing, alerts: adverseReactionAlerts({ medications, allergies, conditions, weights }) };
}

const hasCode = (o: Observation, code: string) => (o.code.coding ?? []).some((c) => c.system === LOINC && c.code === code);
const when = (o: Observation) => Date.parse(o.effectiveDateTime ?? o.effectivePeriod?.start ?? '');
const points = (obs: Observation[], value: (o: Observation) => number | undefined): Point[] =>
  obs.map((o) => ({ at: when(o), value: value(o) })).filter((p): p is Point => Number.isFinite(p.at) && typeof p.value === 'number').slice(-24);
const component = (o: Observation, code: string) => o.component?.find((c) => (c.code.coding ?? []).some((x) => x.code === code))?.valueQuantity?.value;
const display = (cc: { text?: string; coding?: { display?: string; code?: string }[] } | undefined) => cc?.text ?? cc?.coding?.find((c) => c.display)?.display ?? cc?.coding?.[0]?.code ?? '—';

function nameOf(p: Patient): string {
  const n: HumanName | undefined = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  return n ? (n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ')) : `Patient ${p.id ?? ''}`;
}

function banner(p: Patient): string {
  const mrn = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value;
  return `<header class="banner"><strong>${esc(nameOf(p))}</strong> · ${esc(p.gender ?? 'gender unknown')} · born ${esc(p.birthDate ?? 'unknown')}${mrn ? ` · MRN ${esc(mrn)}` : ''}</header>`;
}

function vitals(v: PatientRecordView): string {
  const sorted = [...v.observations].sort((a, b) => when(a) - when(b));
  const bp = sorted.filter((o) => hasCode(o, VITALS.bp));
  return [
    lineChart('Blood pressure', 'mm[Hg]', [
      { name: 'systolic', color: '#c0392b', points: points(bp, (o) => component(o, '8480-6')) },
      { name: 'diastolic', color: '#2874a6', points: points(bp, (o) => component(o, '8462-4')) },
    ]),
    lineChart('Heart rate', '/min', [{ name: 'heart rate', color: '#8e44ad', points: points(sorted.filter((o) => hasCode(o, VITALS.heartRate)), (o) => o.valueQuantity?.value) }]),
    lineChart('Weight', 'kg', [{ name: 'weight', color: '#16a085', points: points(sorted.filter((o) => hasCode(o, VITALS.weight)), (o) => o.valueQuantity?.value) }]),
  ].join('');
}

const list = (items: string[], empty: string) => (items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : `<p>${esc(empty)}</p>`);

function alertsSection(v: PatientRecordView): string {
  const gaps = v.missing.filter((m) => m.type !== 'Patient' && m.type !== 'Observation');
  const partial = gaps.length ? `<p class="note">The check ran without ${esc(gaps.map((g) => NEEDED[g.type]).join(', '))}: not available to this app.</p>` : '';
  const items = v.alerts.map((a) => `<li class="alert ${a.severity}"><strong>${esc(a.severity === 'high' ? 'High' : 'Moderate')}:</strong> ${esc(a.title)}`
    + `<ul>${a.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul><small>Rule ${esc(a.rule)}; source: ${esc(a.source)}</small></li>`);
  return `<section><h2>Adverse-reaction check</h2>${partial}${items.length ? `<ul class="alerts">${items.join('')}</ul>` : '<p>No alerts.</p>'}`
    + '<p class="note">A sample rule set (apps/point-of-care/src/adverse-reactions.ts), not clinically validated.</p></section>';
}

export function renderPatientPage(v: PatientRecordView, context: LaunchContext): string {
  const shown = (type: NeededType, body: () => string) => {
    const gap = v.missing.find((m) => m.type === type);
    return gap ? `<p class="missing">Not shown: ${esc(NEEDED[type])}, because ${esc(gap.reason)}.</p>` : body();
  };
  const active = v.allergies.filter((a) => (a.clinicalStatus?.coding?.[0]?.code ?? 'active') === 'active');
  return [
    context.needPatientBanner === true && v.patient ? banner(v.patient) : '',
    '<section><h2>Vital signs</h2>', shown('Observation', () => vitals(v)), '</section>',
    '<section><h2>Active medications</h2>', shown('MedicationRequest', () => list(v.medications.map((m) => `${esc(display(m.medicationCodeableConcept))}${m.dosageInstruction?.[0]?.text ? ` — ${esc(m.dosageInstruction[0].text)}` : ''}`), 'None recorded.')), '</section>',
    '<section><h2>Allergies and intolerances</h2>', shown('AllergyIntolerance', () => list(active.map((a) => `${esc(display(a.code))} (${esc(a.type ?? 'allergy')}${a.criticality ? `, criticality ${esc(a.criticality)}` : ''})`), 'No known allergies recorded.')), '</section>',
    alertsSection(v),
  ].join('\n');
}
