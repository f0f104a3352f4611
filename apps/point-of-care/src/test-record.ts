// A patient record for the point-of-care app's tests: Ines Moreno, hypertensive, allergic to penicillin, with
// amoxicillin and ibuprofen ordered (two alerts), blood pressure, heart rate and weight; another patient; a clinician.
const LOINC = 'http://loinc.org';
const bp = (id: string, when: string, sys: number, dia: number) => ({
  resourceType: 'Observation', id, status: 'final', subject: { reference: 'Patient/poc-pat' }, effectiveDateTime: when,
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code: '85354-9' }] },
  component: [{ code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mm[Hg]' } }, { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mm[Hg]' } }],
});
const simple = (id: string, code: string, when: string, value: number, unit: string) => ({
  resourceType: 'Observation', id, status: 'final', subject: { reference: 'Patient/poc-pat' }, effectiveDateTime: when,
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: LOINC, code }] }, valueQuantity: { value, unit, code: unit },
});
export const RECORD = [
  { resourceType: 'Practitioner', id: 'poc-doc', name: [{ family: 'Care', given: ['Pat'] }] },
  { resourceType: 'Patient', id: 'poc-pat', name: [{ family: 'Moreno', given: ['Ines'] }], gender: 'female', birthDate: '1958-04-02', identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-4471' }] },
  { resourceType: 'Patient', id: 'poc-other', name: [{ family: 'Okafor', given: ['Chidi'] }], gender: 'male', birthDate: '1990-01-01' },
  bp('bp1', '2025-03-01T09:00:00Z', 148, 92), bp('bp2', '2025-07-01T09:00:00Z', 141, 88), bp('bp3', '2025-11-01T09:00:00Z', 152, 95),
  simple('hr1', '8867-4', '2025-07-01T09:00:00Z', 76, '/min'), simple('wt1', '29463-7', '2025-11-01T09:00:00Z', 71.5, 'kg'),
  { resourceType: 'Condition', id: 'htn', subject: { reference: 'Patient/poc-pat' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }] } },
  { resourceType: 'AllergyIntolerance', id: 'pen', patient: { reference: 'Patient/poc-pat' }, type: 'allergy', criticality: 'high', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7984', display: 'penicillin V' }] } },
  ...[['amox', '308182', 'amoxicillin 250 MG Oral Capsule', 2, 3], ['ibu', '197806', 'ibuprofen 600 MG Oral Tablet', 1, 3]].map(([id, code, display, dose, times]) => ({
    resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject: { reference: 'Patient/poc-pat' }, authoredOn: '2025-11-01',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }] },
    dosageInstruction: [{ text: `${dose} by mouth ${times} times a day`, timing: { repeat: { frequency: times, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: dose } }] }],
  })),
];

/** Writes RECORD to the FHIR server at `fhirBase` (PUT, so the ids are kept). */
export async function seedRecord(fhirBase: string, token: string): Promise<void> {
  for (const r of RECORD) {
    const res = await fetch(`${fhirBase}/${r.resourceType}/${r.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` }, body: JSON.stringify(r) });
    if (!res.ok) throw new Error(`PUT ${r.resourceType}/${r.id}: HTTP ${res.status} ${await res.text()}`);
  }
}
