// Each adverse-reaction rule on hand-made records: when it fires (with its evidence) and the look-alikes where it
// must not (a stopped order, a resolved allergy or condition, an unrelated allergen, a dose within the limit).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AllergyIntolerance, Condition, MedicationRequest, Observation } from 'fhir/r4.js';
import { adverseReactionAlerts, type PatientRecord } from './adverse-reactions.ts';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
let n = 0;
const med = (display: string, o: { dose?: number; timesPerDay?: number; status?: MedicationRequest['status'] } = {}): MedicationRequest => ({
  resourceType: 'MedicationRequest', id: `m${++n}`, status: o.status ?? 'active', intent: 'order', subject: { reference: 'Patient/p' },
  medicationCodeableConcept: { coding: [{ system: RXNORM, code: String(n), display }] }, authoredOn: '2025-11-01',
  dosageInstruction: [{ timing: { repeat: { frequency: o.timesPerDay ?? 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: o.dose ?? 1 } }] }],
});
const allergy = (display: string, o: { type?: 'allergy' | 'intolerance'; criticality?: 'low' | 'high'; status?: string } = {}): AllergyIntolerance => ({
  resourceType: 'AllergyIntolerance', id: `a${++n}`, patient: { reference: 'Patient/p' }, type: o.type ?? 'allergy', ...(o.criticality ? { criticality: o.criticality } : {}),
  clinicalStatus: { coding: [{ code: o.status ?? 'active' }] }, code: { coding: [{ display }] },
  reaction: [{ manifestation: [{ coding: [{ display: 'Hives' }] }] }],
});
const condition = (code: string, display: string, status = 'active'): Condition => ({
  resourceType: 'Condition', id: `c${++n}`, subject: { reference: 'Patient/p' }, clinicalStatus: { coding: [{ code: status }] }, code: { coding: [{ system: 'http://snomed.info/sct', code, display }] },
});
const weight = (kg: number, when: string): Observation => ({
  resourceType: 'Observation', id: `w${++n}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, effectiveDateTime: when, valueQuantity: { value: kg, unit: 'kg', code: 'kg' },
});
const record = (r: Partial<PatientRecord>): PatientRecord => ({ medications: [], allergies: [], conditions: [], weights: [], ...r });
const rules = (r: PatientRecord) => adverseReactionAlerts(r).map((a) => `${a.rule}:${a.severity}`).sort();

const AMOXICILLIN = 'amoxicillin 250 MG Oral Capsule';
const IBUPROFEN = 'ibuprofen 600 MG Oral Tablet';

describe('adverse-reaction rules', () => {
  it('a drug the patient is allergic to, and one of its class, with the allergy and the order as evidence', () => {
    const penicillin = allergy('penicillin V', { criticality: 'high' });
    const amox = med(AMOXICILLIN);
    const [alert, ...rest] = adverseReactionAlerts(record({ allergies: [penicillin], medications: [amox] }));
    assert.equal(rest.length, 0);
    assert.equal(alert!.rule, 'allergy-class');
    assert.equal(alert!.severity, 'high');
    assert.match(alert!.title, /amoxicillin .* penicillin/);
    assert.deepEqual(alert!.evidence, [`AllergyIntolerance/${penicillin.id}: penicillin V (allergy, criticality high; reactions: Hives)`, `MedicationRequest/${amox.id}: ${AMOXICILLIN} (ordered 2025-11-01)`]);

    assert.deepEqual(rules(record({ allergies: [allergy('ibuprofen', { type: 'intolerance' })], medications: [med(IBUPROFEN)] })), ['allergy-drug:high']);
    // Aspirin intolerance and another NSAID: cross-reactive class, an intolerance of unknown criticality.
    assert.deepEqual(rules(record({ allergies: [allergy('aspirin', { type: 'intolerance' })], medications: [med(IBUPROFEN)] })), ['allergy-class:moderate']);
  });

  it('no allergy alert for a stopped order, a resolved allergy or an unrelated allergen', () => {
    assert.deepEqual(rules(record({ allergies: [allergy('penicillin V')], medications: [med(AMOXICILLIN, { status: 'stopped' })] })), []);
    assert.deepEqual(rules(record({ allergies: [allergy('penicillin V', { status: 'resolved' })], medications: [med(AMOXICILLIN)] })), []);
    assert.deepEqual(rules(record({ allergies: [allergy('Peanut (substance)')], medications: [med(AMOXICILLIN)] })), []);
  });

  it('an NSAID with active hypertension or chronic kidney disease, not with a resolved one', () => {
    assert.deepEqual(rules(record({ medications: [med(IBUPROFEN)], conditions: [condition('38341003', 'Hypertension')] })), ['nsaid-condition:moderate']);
    assert.deepEqual(rules(record({ medications: [med(IBUPROFEN)], conditions: [condition('709044004', 'Chronic kidney disease')] })), ['nsaid-condition:moderate']);
    assert.deepEqual(rules(record({ medications: [med(IBUPROFEN)], conditions: [condition('38341003', 'Hypertension', 'resolved')] })), []);
    assert.deepEqual(rules(record({ medications: [med('amlodipine 5 MG Oral Tablet')], conditions: [condition('38341003', 'Hypertension')] })), []);
  });

  it('interactions from the table, and the ACE inhibitor + diuretic + NSAID triple', () => {
    const warfarin = med('warfarin sodium 5 MG Oral Tablet');
    const sertraline = med('sertraline 50 MG Oral Tablet');
    assert.deepEqual(rules(record({ medications: [warfarin, med(IBUPROFEN), sertraline] })), ['interaction:high', 'interaction:high', 'interaction:high']);
    assert.deepEqual(rules(record({ medications: [warfarin, med('azithromycin 250 MG Oral Tablet')] })), ['interaction:high']);
    const triple = adverseReactionAlerts(record({ medications: [med('lisinopril 10 MG Oral Tablet'), med('hydrochlorothiazide 25 MG Oral Tablet'), med(IBUPROFEN)] }));
    assert.deepEqual(triple.map((a) => a.rule), ['interaction']);
    assert.equal(triple[0]!.evidence.length, 3);
    assert.deepEqual(rules(record({ medications: [med('lisinopril 10 MG Oral Tablet'), med('hydrochlorothiazide 25 MG Oral Tablet')] })), []);
  });

  it('a daily dose above the maximum for the latest weight, or the adult maximum when no weight is known', () => {
    const paracetamol = () => med('acetaminophen 325 MG Oral Tablet', { dose: 2, timesPerDay: 4 }); // 2,600 mg a day
    const child = adverseReactionAlerts(record({ medications: [paracetamol()], weights: [weight(60, '2020-01-01'), weight(20, '2025-10-01')] }));
    assert.deepEqual(child.map((a) => a.rule), ['dose-weight']);
    assert.match(child[0]!.title, /2600 mg a day is above the maximum of 1500 mg a day/);
    assert.match(child[0]!.evidence[1]!, /20\.0 kg on 2025-10-01/);
    assert.deepEqual(rules(record({ medications: [paracetamol()], weights: [weight(70, '2025-10-01')] })), []);
    assert.deepEqual(rules(record({ medications: [paracetamol()] })), []);
    assert.deepEqual(rules(record({ medications: [med('acetaminophen 500 MG Oral Tablet', { dose: 2, timesPerDay: 5 })] })), ['dose-weight:high']); // 5 g a day
  });
});
