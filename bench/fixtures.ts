// Request bodies for the write scenarios: a vital-sign Observation and a 10-entry transaction Bundle.
import { randomUUID } from 'node:crypto';

const VITALS = [
  { code: '8867-4', display: 'Heart rate', unit: 'beats/minute', ucum: '/min', base: 60, spread: 40 },
  { code: '9279-1', display: 'Respiratory rate', unit: 'breaths/minute', ucum: '/min', base: 12, spread: 8 },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', ucum: 'Cel', base: 36.2, spread: 1.5 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', ucum: 'kg', base: 50, spread: 50 },
];

/** A valid vital-sign Observation; `n` varies the vital, value and date. */
export function vitalSign(n: number, subject: string): Record<string, unknown> {
  const v = VITALS[n % VITALS.length]!;
  const day = new Date(Date.UTC(2024, 0, 1) + (n % 365) * 86_400_000 + (n % 1440) * 60_000);
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: v.code, display: v.display }], text: v.display },
    subject: { reference: subject },
    effectiveDateTime: day.toISOString(),
    valueQuantity: { value: Math.round((v.base + ((n * 7919) % 1000) / 1000 * v.spread) * 10) / 10, unit: v.unit, system: 'http://unitsofmeasure.org', code: v.ucum },
  };
}

/** A transaction: one new Patient and 9 Observations pointing at it through its urn:uuid fullUrl. */
export function transactionBundle(n: number): Record<string, unknown> {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  const patient = {
    resourceType: 'Patient',
    name: [{ family: `Bench${n}`, given: ['Transaction'] }],
    gender: n % 2 ? 'female' : 'male',
    birthDate: `19${50 + (n % 50)}-0${1 + (n % 9)}-1${n % 10}`,
  };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: patientUrl, resource: patient, request: { method: 'POST', url: 'Patient' } },
      ...Array.from({ length: 9 }, (_, i) => ({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: vitalSign(n * 9 + i, patientUrl),
        request: { method: 'POST', url: 'Observation' },
      })),
    ],
  };
}

/** Patients the write scenarios attach Observations to, so the seeded patients' data (read by S) stays fixed. */
export const WRITER_PATIENTS = Array.from({ length: 20 }, (_, i) => ({
  resourceType: 'Patient',
  id: `bench-writer-${i}`,
  name: [{ family: 'Writer', given: [`Bench${i}`] }],
}));
