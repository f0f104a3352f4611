// The report's measures, as plain functions over FHIR R4 resources. Every rule is here, with its source; none of
// this is clinically validated: it is a sample of what a backend service computes over a population.
//
// Population: living patients (no `deceased[x]` true or in the past) with a birth date, their age taken on the
// report's date.
//
// Blood pressure control in hypertension, after NCQA HEDIS "Controlling High Blood Pressure" (CBP):
// - denominator: patients aged 18–85 with an active (or status-less) Condition coded hypertension
//   (SNOMED CT 38341003 or ICD-10-CM I10);
// - the representative reading is the most recent blood-pressure panel (LOINC 85354-9; systolic 8480-6, diastolic
//   8462-4; status final, amended or corrected) taken on or before the report's date;
// - "above target" when that reading is ≥ 140 systolic or ≥ 90 diastolic mm Hg (CBP's "adequately controlled" is
//   < 140/90). Patients with no reading are counted apart, not as controlled.
//   @see https://www.ncqa.org/hedis/measures/controlling-high-blood-pressure/
//
// Immunization coverage, after the CDC adult and child schedules (simplified to "at least one dose"): for each
// vaccine, the eligible patients and how many have a completed Immunization with one of its CVX codes (influenza:
// within the 12 months before the report's date; the others: ever).
//   @see https://www.cdc.gov/vaccines/hcp/imz-schedules/ and https://www2.cdc.gov/vaccines/iis/iisstandards/vaccines.asp?rpt=cvx
import type { Condition, Immunization, Observation, Patient } from 'fhir/r4.js';

export const AGE_BANDS = ['0–17', '18–39', '40–64', '65+'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const LOINC = 'http://loinc.org';
const CVX = 'http://hl7.org/fhir/sid/cvx';

export const HYPERTENSION_CODES = [{ system: SNOMED, code: '38341003' }, { system: ICD10CM, code: 'I10' }];
export const BP_PANEL = { system: LOINC, code: '85354-9' };
const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';
/** HEDIS CBP: adequately controlled below 140/90 mm Hg. */
export const BP_TARGET = { systolic: 140, diastolic: 90 };
const CBP_AGES = { min: 18, max: 85 };
const READING_STATUSES = new Set(['final', 'amended', 'corrected']);

export interface VaccineMeasure {
  name: string;
  cvx: readonly string[];
  /** Eligible ages in years, inclusive of `min`, exclusive of `below`. */
  ages: { min: number; below?: number };
  /** Doses count only within this many days before the report's date (undefined: ever). */
  withinDays?: number;
}

export const VACCINES: readonly VaccineMeasure[] = [
  // Seasonal influenza, every year from 6 months of age.
  { name: 'Influenza (last 12 months)', cvx: ['140', '141', '150', '155', '158', '161', '171', '185', '186', '197', '205'], ages: { min: 0.5 }, withinDays: 365 },
  // COVID-19, any dose (mRNA and protein subunit vaccines).
  { name: 'COVID-19 (any dose)', cvx: ['207', '208', '210', '211', '212', '213', '217', '218', '219', '221', '228', '229', '230', '300', '301', '302', '309', '310', '311', '312', '313'], ages: { min: 12 } },
  // MMR: first dose at 12–15 months.
  { name: 'MMR, children 2–17', cvx: ['03', '94'], ages: { min: 2, below: 18 } },
  // Recombinant (or the former live) zoster vaccine from 50.
  { name: 'Zoster, 50 and over', cvx: ['187', '121'], ages: { min: 50 } },
  // Pneumococcal (PPSV23, PCV13, PCV15, PCV20) from 65.
  { name: 'Pneumococcal, 65 and over', cvx: ['33', '133', '215', '216'], ages: { min: 65 } },
];

export interface PopulationData {
  patients: Patient[];
  conditions: Condition[];
  /** Blood-pressure panels (other Observations are ignored). */
  observations: Observation[];
  immunizations: Immunization[];
}

export interface HypertensionRow {
  band: AgeBand;
  hypertensive: number;
  withReading: number;
  aboveTarget: number;
}

export interface VaccineRow {
  name: string;
  eligible: number;
  vaccinated: number;
  byBand: Record<AgeBand, { eligible: number; vaccinated: number }>;
}

export interface PopulationReport {
  asOf: string;
  /** Living patients with a birth date, by age band. */
  patients: Record<AgeBand, number>;
  hypertension: HypertensionRow[];
  vaccines: VaccineRow[];
}

const DAY_MS = 86_400_000;

/** Whole years (and a fraction, for the 6-month influenza rule) from `birthDate` to `asOf`. */
export function ageOn(birthDate: string, asOf: Date): number {
  const birth = new Date(`${birthDate.length === 4 ? `${birthDate}-01-01` : birthDate.length === 7 ? `${birthDate}-01` : birthDate.slice(0, 10)}T00:00:00Z`);
  let years = asOf.getUTCFullYear() - birth.getUTCFullYear();
  const anniversary = new Date(Date.UTC(asOf.getUTCFullYear(), birth.getUTCMonth(), birth.getUTCDate()));
  if (anniversary > asOf) years--;
  const lastBirthday = new Date(Date.UTC(birth.getUTCFullYear() + years, birth.getUTCMonth(), birth.getUTCDate()));
  return years + (asOf.getTime() - lastBirthday.getTime()) / (365.25 * DAY_MS);
}

export function ageBand(age: number): AgeBand {
  return age < 18 ? '0–17' : age < 40 ? '18–39' : age < 65 ? '40–64' : '65+';
}

function alive(p: Patient, asOf: Date): boolean {
  if (p.deceasedBoolean) return false;
  return !p.deceasedDateTime || new Date(p.deceasedDateTime) > asOf;
}

/** `Patient/123` (relative, or absolute ending so) → `123`. */
function patientId(reference: string | undefined): string | undefined {
  const m = reference ? /(?:^|\/)Patient\/([^/]+)$/.exec(reference) : null;
  return m?.[1];
}

const coded = (codings: { system?: string; code?: string }[] | undefined, wanted: readonly { system: string; code: string }[]) =>
  (codings ?? []).some((c) => wanted.some((w) => c.system === w.system && c.code === w.code));

function isActiveHypertension(c: Condition): boolean {
  const status = c.clinicalStatus?.coding?.[0]?.code;
  return (status === undefined || status === 'active' || status === 'recurrence' || status === 'relapse') && coded(c.code?.coding, HYPERTENSION_CODES);
}

/** Systolic and diastolic of a blood-pressure panel, if both are there in mm Hg. */
export function bpValues(o: Observation): { systolic: number; diastolic: number } | undefined {
  const value = (loinc: string) => o.component?.find((c) => coded(c.code.coding, [{ system: LOINC, code: loinc }]))?.valueQuantity?.value;
  const systolic = value(SYSTOLIC);
  const diastolic = value(DIASTOLIC);
  return typeof systolic === 'number' && typeof diastolic === 'number' ? { systolic, diastolic } : undefined;
}

export function aboveTarget(bp: { systolic: number; diastolic: number }): boolean {
  return bp.systolic >= BP_TARGET.systolic || bp.diastolic >= BP_TARGET.diastolic;
}

/** The latest usable blood-pressure reading per patient id, on or before `asOf`. */
function latestReadings(observations: Observation[], asOf: Date): Map<string, { at: number; bp: { systolic: number; diastolic: number } }> {
  const latest = new Map<string, { at: number; bp: { systolic: number; diastolic: number } }>();
  for (const o of observations) {
    const id = patientId(o.subject?.reference);
    const when = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued;
    const bp = bpValues(o);
    if (!id || !when || !bp || !READING_STATUSES.has(o.status) || !coded(o.code.coding, [BP_PANEL])) continue;
    const at = Date.parse(when);
    if (!(at <= asOf.getTime())) continue;
    const seen = latest.get(id);
    if (!seen || at > seen.at) latest.set(id, { at, bp });
  }
  return latest;
}

const emptyBands = <T>(make: () => T) => Object.fromEntries(AGE_BANDS.map((b) => [b, make()])) as Record<AgeBand, T>;

export function populationReport(data: PopulationData, asOf: Date): PopulationReport {
  const ages = new Map<string, number>();
  for (const p of data.patients) if (p.id && p.birthDate && alive(p, asOf)) ages.set(p.id, ageOn(p.birthDate, asOf));
  const patients = emptyBands(() => 0);
  for (const age of ages.values()) patients[ageBand(age)]++;
  return { asOf: asOf.toISOString(), patients, hypertension: hypertensionRows(data, ages, asOf), vaccines: VACCINES.map((v) => vaccineRow(v, data.immunizations, ages, asOf)) };
}

function hypertensionRows(data: PopulationData, ages: Map<string, number>, asOf: Date): HypertensionRow[] {
  const hypertensive = new Set<string>();
  for (const c of data.conditions) {
    const id = patientId(c.subject?.reference);
    const age = id === undefined ? undefined : ages.get(id);
    if (age !== undefined && age >= CBP_AGES.min && age < CBP_AGES.max + 1 && isActiveHypertension(c)) hypertensive.add(id!);
  }
  const readings = latestReadings(data.observations, asOf);
  const rows = emptyBands(() => ({ hypertensive: 0, withReading: 0, aboveTarget: 0 }));
  for (const id of hypertensive) {
    const row = rows[ageBand(ages.get(id)!)];
    row.hypertensive++;
    const reading = readings.get(id);
    if (!reading) continue;
    row.withReading++;
    if (aboveTarget(reading.bp)) row.aboveTarget++;
  }
  return AGE_BANDS.filter((b) => b !== '0–17').map((band) => ({ band, ...rows[band] }));
}

function vaccineRow(v: VaccineMeasure, immunizations: Immunization[], ages: Map<string, number>, asOf: Date): VaccineRow {
  const from = v.withinDays === undefined ? -Infinity : asOf.getTime() - v.withinDays * DAY_MS;
  const vaccinated = new Set<string>();
  for (const i of immunizations) {
    const id = patientId(i.patient?.reference);
    const at = Date.parse(i.occurrenceDateTime ?? '');
    if (id && i.status === 'completed' && at >= from && at <= asOf.getTime() && (i.vaccineCode.coding ?? []).some((c) => c.system === CVX && v.cvx.includes(c.code ?? ''))) vaccinated.add(id);
  }
  const byBand = emptyBands(() => ({ eligible: 0, vaccinated: 0 }));
  for (const [id, age] of ages) {
    if (age < v.ages.min || (v.ages.below !== undefined && age >= v.ages.below)) continue;
    const band = byBand[ageBand(age)];
    band.eligible++;
    if (vaccinated.has(id)) band.vaccinated++;
  }
  const total = (k: 'eligible' | 'vaccinated') => AGE_BANDS.reduce((n, b) => n + byBand[b][k], 0);
  return { name: v.name, eligible: total('eligible'), vaccinated: total('vaccinated'), byBand };
}
