// Hand-made patients whose report is known (measures.test.ts says what it is), for the tests of the rules and of the
// app against a server.
import type { Condition, Immunization, Observation, Patient } from 'fhir/r4.js';
import type { PopulationData } from './measures.ts';

export const AS_OF = new Date('2026-01-01T23:59:59.999Z');
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

const patient = (id: string, birthDate: string, extra: Partial<Patient> = {}): Patient => ({ resourceType: 'Patient', id, birthDate, ...extra });
const htn = (p: string, o: { system?: string; code?: string; status?: string } = {}): Condition => ({
  resourceType: 'Condition', subject: { reference: `Patient/${p}` },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: o.status ?? 'active' }] },
  code: { coding: [{ system: o.system ?? SNOMED, code: o.code ?? '38341003' }] },
});
const bp = (p: string, when: string, systolic: number, diastolic: number, status: Observation['status'] = 'final'): Observation => ({
  resourceType: 'Observation', status, subject: { reference: `Patient/${p}` }, effectiveDateTime: when,
  code: { coding: [{ system: LOINC, code: '85354-9' }] },
  component: [
    { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: systolic, unit: 'mm[Hg]' } },
    { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: diastolic, unit: 'mm[Hg]' } },
  ],
});
const shot = (p: string, cvx: string, when: string, status: Immunization['status'] = 'completed'): Immunization => ({
  resourceType: 'Immunization', status, patient: { reference: `Patient/${p}` }, occurrenceDateTime: when,
  vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: cvx }] },
});

/** Hand-made patients; the comments say what each must count as on AS_OF. */
export function handMadePopulation(): PopulationData {
  return {
    patients: [
      patient('h1', '1960-03-01'), // 65: hypertensive, latest reading 152/88 → above target
      patient('h2', '1980-05-05'), // 45: hypertensive (ICD-10), latest reading 128/79 → below; a later one is after AS_OF
      patient('h3', '1990-01-01'), // 36: hypertension resolved → not counted, whatever the reading
      patient('h4', '1995-02-02'), // 30: hypertensive, no reading
      patient('h5', '1970-01-01'), // 56: high reading but no hypertension → not counted
      patient('h6', '1950-01-01', { deceasedDateTime: '2024-05-01' }), // dead → in nothing
      patient('h7', '2015-06-01'), // 10: a child; MMR
      patient('h8', '1941-01-01'), // 85: hypertensive, reading 139/89 → below (both limits are "at or above")
      patient('h9', '1930-01-01'), // 96: hypertensive but past CBP's 85 → not counted
    ],
    conditions: [htn('h1'), htn('h2', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }), htn('h3', { status: 'resolved' }), htn('h4'), htn('h6'), htn('h8'), htn('h9')],
    observations: [
      bp('h1', '2025-06-01T10:00:00Z', 130, 80), bp('h1', '2025-11-01T10:00:00Z', 152, 88),
      bp('h2', '2025-01-01T10:00:00Z', 160, 100), bp('h2', '2025-10-01T10:00:00Z', 128, 79), bp('h2', '2026-02-01T10:00:00Z', 170, 110),
      bp('h2', '2025-12-01T10:00:00Z', 180, 120, 'entered-in-error'),
      bp('h3', '2025-10-01T10:00:00Z', 170, 100), bp('h5', '2025-10-01T10:00:00Z', 170, 105), bp('h6', '2024-01-01T10:00:00Z', 170, 105),
      bp('h8', '2025-09-01T10:00:00Z', 139, 89), bp('h9', '2025-09-01T10:00:00Z', 170, 100),
    ],
    immunizations: [
      shot('h1', '140', '2025-10-15T09:00:00Z'), shot('h1', '33', '2020-01-01T09:00:00Z'),
      shot('h2', '140', '2024-10-01T09:00:00Z'), // more than 12 months before AS_OF
      shot('h4', '208', '2021-05-01T09:00:00Z'), shot('h5', '208', '2021-05-01T09:00:00Z', 'not-done'),
      shot('h7', '03', '2016-07-01T09:00:00Z'), shot('h6', '140', '2023-10-01T09:00:00Z'),
    ],
  };
}
