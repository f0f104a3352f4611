// The patient chart of the simulated EHR: which FHIR reads make it, and what the page shows of their results
// (banner, encounters, problems, medications, allergies, vital signs). Pure functions over FHIR R4 JSON.
import { displayName } from '../auth/launch-pickers.ts';
import type { ReadResult } from '../ui/fhir-as-user.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR JSON, read defensively

export interface Banner {
  id: string;
  name: string;
  /** Whole years, from birthDate (and deceasedDateTime when deceased). */
  age?: number;
  gender?: string;
  birthDate?: string;
  /** The medical record number: the identifier typed v2-0203 `MR`. */
  mrn?: string;
}

export interface Row {
  id: string;
  text: string;
  detail?: string;
  date?: string;
}

export interface VitalSeries {
  label: string;
  unit: string;
  /** Oldest first. */
  points: { date: string; value: number }[];
}

export interface Chart {
  banner: Banner;
  encounters: Row[];
  problems: Row[];
  medications: Row[];
  allergies: Row[];
  vitals: VitalSeries[];
  /** Sections the user may not read (a 403 from the FHIR API): shown as such, not as empty. */
  refused: string[];
}

const VITALS: { label: string; code: string; component?: boolean }[] = [
  { label: 'Systolic blood pressure', code: '8480-6', component: true },
  { label: 'Diastolic blood pressure', code: '8462-4', component: true },
  { label: 'Heart rate', code: '8867-4' },
  { label: 'Body weight', code: '29463-7' },
];
const LOINC = 'http://loinc.org';

/** The FHIR reads of a chart, in the order `chartOf` expects their results. */
export function chartRequests(patientId: string): string[] {
  const p = encodeURIComponent(patientId);
  return [
    `Patient/${p}`,
    `Encounter?patient=${p}&_sort=-date&_count=10`,
    `Condition?patient=${p}&clinical-status=active&_count=50`,
    `MedicationRequest?patient=${p}&status=active&_count=50`,
    `AllergyIntolerance?patient=${p}&_count=50`,
    `Observation?patient=${p}&category=vital-signs&code=${VITALS.map((v) => `${LOINC}|${v.component ? '85354-9' : v.code}`).join(',')}&_sort=-date&_count=200`,
  ];
}

/** The chart, or undefined when the patient cannot be read (unknown, or not the user's to see: both 404). */
export function chartOf(results: readonly ReadResult[], now = new Date()): Chart | undefined {
  const [patient, encounters, conditions, medications, allergies, vitals] = results;
  if (!patient?.resource) return undefined;
  const refused = ['Encounters', 'Problems', 'Medications', 'Allergies', 'Vital signs'].filter((_, i) => results[i + 1]?.status === 403);
  return {
    banner: banner(patient.resource, now),
    encounters: entries(encounters).map((e) => ({ id: e.id, text: concept(e.type?.[0]) ?? e.class?.display ?? e.class?.code ?? 'Encounter', detail: e.status, date: day(e.period?.start) })),
    problems: entries(conditions).map((c) => ({ id: c.id, text: concept(c.code) ?? 'Condition', date: day(c.onsetDateTime ?? c.recordedDate) })),
    medications: entries(medications).map((m) => ({ id: m.id, text: concept(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? 'Medication', detail: m.dosageInstruction?.[0]?.text, date: day(m.authoredOn) })),
    allergies: entries(allergies).map((a) => ({ id: a.id, text: concept(a.code) ?? 'Allergy', detail: a.criticality, date: day(a.recordedDate) })),
    vitals: vitalSeries(entries(vitals)),
    refused,
  };
}

function banner(p: Json, now: Date): Banner {
  const mrn = (p.identifier as Json[] | undefined)?.find((i) => i.type?.coding?.some((c: Json) => c.code === 'MR'))?.value;
  const age = typeof p.birthDate === 'string' ? yearsBetween(p.birthDate, typeof p.deceasedDateTime === 'string' ? new Date(p.deceasedDateTime) : now) : undefined;
  return { id: p.id, name: displayName(p.name), ...(age !== undefined ? { age } : {}), gender: p.gender, birthDate: p.birthDate, ...(mrn ? { mrn } : {}) };
}

function yearsBetween(birthDate: string, until: Date): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate);
  if (!m) return undefined;
  const [year, month = 1, dayOfMonth = 1] = [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)];
  const beforeBirthday = until.getUTCMonth() + 1 < month || (until.getUTCMonth() + 1 === month && until.getUTCDate() < dayOfMonth);
  return until.getUTCFullYear() - year - (beforeBirthday ? 1 : 0);
}

const entries = (r: ReadResult | undefined): Json[] => ((r?.resource?.entry as Json[] | undefined) ?? []).map((e) => e.resource).filter((x): x is Json => !!x);
const concept = (c: Json | undefined): string | undefined => c?.text ?? c?.coding?.find((x: Json) => x.display)?.display;
const day = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 10) : undefined);

function vitalSeries(observations: Json[]): VitalSeries[] {
  const series = VITALS.map((v) => ({ label: v.label, unit: '', points: [] as { date: string; value: number }[] }));
  for (const o of observations) {
    const date = o.effectiveDateTime ?? o.effectivePeriod?.start;
    if (typeof date !== 'string') continue;
    const quantities = [o, ...((o.component as Json[] | undefined) ?? [])];
    VITALS.forEach((v, i) => {
      const q = quantities.find((x) => x.code?.coding?.some((c: Json) => c.system === LOINC && c.code === v.code))?.valueQuantity;
      if (typeof q?.value !== 'number') return;
      series[i]!.unit ||= q.unit ?? q.code ?? '';
      series[i]!.points.push({ date, value: q.value });
    });
  }
  for (const s of series) s.points.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return series.filter((s) => s.points.length > 0);
}
