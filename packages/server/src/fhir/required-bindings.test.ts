import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REQUIRED_BINDING_STATS, checkRequiredBindings } from './required-bindings.ts';

type R = { resourceType: string; [k: string]: unknown };
const paths = (r: R) => checkRequiredBindings(r).map((i) => i.expression?.[0]);

describe('checkRequiredBindings: primitive codes of the resource itself', () => {
  it('rejects Patient.gender banana with a clear issue, accepts male', () => {
    assert.deepEqual(checkRequiredBindings({ resourceType: 'Patient', gender: 'banana' }), [{
      severity: 'error',
      code: 'value',
      diagnostics: "Value 'banana' is not in the required value set http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1 (male, female, other, unknown)",
      expression: ['Patient.gender'],
    }]);
    assert.deepEqual(checkRequiredBindings({ resourceType: 'Patient', gender: 'male' }), []);
  });

  it('checks Observation.status and lists at most 10 allowed codes', () => {
    const [issue] = checkRequiredBindings({ resourceType: 'Observation', status: 'done', code: { text: 'x' } });
    assert.deepEqual(issue?.expression, ['Observation.status']);
    assert.match(issue!.diagnostics, /observation-status\|4\.0\.1 \(registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown\)$/);
    assert.deepEqual(paths({ resourceType: 'Observation', status: 'final', code: { text: 'x' } }), []);
    const many = checkRequiredBindings({ resourceType: 'SearchParameter', base: ['Patient', 'Banana'] });
    assert.deepEqual(many.map((i) => i.expression), [['SearchParameter.base[1]']]); // array of codes
    assert.match(many[0]!.diagnostics, /resource-types\|4\.0\.1 \(([^,]+, ){9}[^,]+, … \d+ codes in all\)$/);
  });

  it('is case-sensitive and ignores non-string values and `_primitive` siblings', () => {
    assert.deepEqual(paths({ resourceType: 'Patient', gender: 'Male' }), ['Patient.gender']);
    assert.deepEqual(paths({ resourceType: 'Patient', gender: 42, _gender: { extension: [{ url: 'x', valueString: 'banana' }] } }), []);
    assert.deepEqual(paths({ resourceType: 'Patient', _gender: 'banana', unknownThing: { use: 'banana' } }), []);
  });
});

describe('checkRequiredBindings: walking datatypes, backbone elements, choices, references', () => {
  it('HumanName.use inside Patient.name[1], ContactPoint.system/use in Patient.telecom, Address.use, Identifier.use', () => {
    assert.deepEqual(paths({
      resourceType: 'Patient',
      name: [{ use: 'official', family: 'Doe' }, { use: 'nick', given: ['J'] }],
      telecom: [{ system: 'phone', value: '1' }, { system: 'pager-ish', use: 'home', value: '2' }, { system: 'email', use: 'desk' }],
      address: [{ use: 'home', type: 'both' }, { use: 'house', type: 'both' }],
      identifier: [{ use: 'usual', assigner: { identifier: { use: 'nope' } } }],
    }), ['Patient.name[1].use', 'Patient.telecom[1].system', 'Patient.telecom[2].use', 'Patient.address[1].use', 'Patient.identifier[0].assigner.identifier.use']);
  });

  it('Quantity.comparator inside the choice Observation.valueQuantity, and in extension values', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' } };
    assert.deepEqual(paths({ ...obs, valueQuantity: { value: 5, comparator: '=<' } }), ['Observation.valueQuantity.comparator']);
    assert.deepEqual(paths({ ...obs, valueQuantity: { value: 5, comparator: '<=' } }), []);
    assert.deepEqual(paths({ ...obs, extension: [{ url: 'http://example.org/x', valueQuantity: { comparator: '~' } }] }), ['Observation.extension[0].valueQuantity.comparator']);
    assert.deepEqual(paths({ ...obs, valueString: 'banana', valueCodeableConcept: { coding: [{ code: 'banana' }] } }), []);
  });

  it('codes in BackboneElements: Patient.link.type, AllergyIntolerance.reaction.severity, Observation.component', () => {
    assert.deepEqual(paths({ resourceType: 'Patient', link: [{ other: { reference: 'Patient/1' }, type: 'seealso' }, { type: 'same' }] }), ['Patient.link[1].type']);
    assert.deepEqual(paths({
      resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/1' }, criticality: 'high', type: 'allergy', category: ['food', 'fruit'],
      reaction: [{ manifestation: [{ text: 'rash' }], severity: 'moderate' }, { manifestation: [{ text: 'x' }], severity: 'terrible' }],
    }), ['AllergyIntolerance.category[1]', 'AllergyIntolerance.reaction[1].severity']);
    assert.deepEqual(paths({
      resourceType: 'Observation', status: 'final', code: { text: 'bp' },
      component: [{ code: { text: 's' }, valueQuantity: { value: 1 } }, { code: { text: 'd' }, valueQuantity: { value: 1, comparator: 'about' } }],
    }), ['Observation.component[1].valueQuantity.comparator']);
  });

  it('Element-typed children of datatypes: Timing.repeat.periodUnit inside MedicationRequest.dosageInstruction', () => {
    const mr = (periodUnit: string) => ({
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' }, medicationCodeableConcept: { text: 'x' },
      dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit } } }],
    });
    assert.deepEqual(paths(mr('d')), []);
    assert.deepEqual(paths(mr('day')), ['MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit']);
  });

  it('follows contentReference: Questionnaire.item.item(.item).type', () => {
    const q = {
      resourceType: 'Questionnaire', status: 'active',
      item: [{ linkId: '1', type: 'group', item: [{ linkId: '1.1', type: 'string' }, { linkId: '1.2', type: 'group', item: [{ linkId: '1.2.1', type: 'banana' }] }] }, { linkId: '2', type: 'strng' }],
    };
    assert.deepEqual(paths(q), ['Questionnaire.item[0].item[1].item[0].type', 'Questionnaire.item[1].type']);
  });

  it('checks contained resources and Bundle entries with their own resourceType', () => {
    assert.deepEqual(paths({
      resourceType: 'Patient', contained: [{ resourceType: 'Observation', id: 'o', status: 'done', code: { text: 'x' } }, { resourceType: 'Organization', id: 'p' }],
    }), ['Patient.contained[0].status']);
    assert.deepEqual(paths({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'f' }, request: { method: 'POTS', url: 'Patient' } }],
    }), ['Bundle.entry[1].resource.gender', 'Bundle.entry[1].request.method']);
  });

  it('never throws on odd input', () => {
    for (const odd of [null, undefined, 42, 'x', [], { resourceType: 'NoSuchType', gender: 'banana' }, { resourceType: 7 },
      { resourceType: 'Patient', name: 'x', telecom: [null, 1, 'a', [{}]], contained: [null, { gender: 'x' }], link: { type: null } }]) {
      assert.deepEqual(checkRequiredBindings(odd as any), []);
    }
    let deep: any = { linkId: 'x', type: 'banana' };
    for (let i = 0; i < 10_000; i++) deep = { linkId: 'x', type: 'group', item: [deep] };
    assert.deepEqual(checkRequiredBindings({ resourceType: 'Questionnaire', status: 'active', item: [deep] }), []); // depth limit, no stack overflow
  });
});

describe('checkRequiredBindings: value sets that cannot be expanded locally are not enforced', () => {
  it('Attachment.contentType (mimetypes, BCP-13), Money.currency (ISO 4217), Composition.confidentiality (v3) are accepted', () => {
    assert.deepEqual(paths({ resourceType: 'Patient', photo: [{ contentType: 'application/x-made-up' }] }), []);
    assert.deepEqual(paths({ resourceType: 'Binary', contentType: 'not a mime type' }), []);
    assert.deepEqual(paths({ resourceType: 'Invoice', status: 'issued', totalNet: { value: 1, currency: 'XYZ' } }), []);
    assert.deepEqual(paths({ resourceType: 'Composition', status: 'final', confidentiality: 'Q', type: { text: 'x' }, date: '2020', author: [], title: 't' }), []);
    const notExpandable = [...REQUIRED_BINDING_STATS.notExpandableValueSets].map((u) => u.split('|')[0]);
    for (const url of ['http://hl7.org/fhir/ValueSet/mimetypes', 'http://hl7.org/fhir/ValueSet/currencies', 'http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification']) {
      assert.ok(notExpandable.includes(url), url);
    }
    console.log(`${REQUIRED_BINDING_STATS.checked} (type, path) code elements checked, ${REQUIRED_BINDING_STATS.notExpandable} skipped as not expandable:`, notExpandable.join(', '));
  });
});

const observation: R = {
  resourceType: 'Observation', id: 'bp', meta: { versionId: '1', lastUpdated: '2024-01-01T00:00:00Z', tag: [{ system: 'http://x', code: 'y' }] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">BP</div>' },
  identifier: [{ use: 'official', system: 'urn:ietf:rfc:3986', value: 'urn:uuid:1' }],
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }], text: 'Blood pressure' },
  subject: { reference: 'Patient/example', display: 'Amy' },
  encounter: { reference: 'Encounter/1' },
  effectiveDateTime: '2024-01-01T10:00:00Z',
  performer: [{ reference: 'Practitioner/1' }],
  interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'N' }] }],
  referenceRange: [{ low: { value: 90, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }, type: { text: 'normal' } }],
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 80, comparator: '<', unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ],
};

describe('checkRequiredBindings: realistic valid resources pass', () => {
  it('Observation, MedicationRequest, Encounter, Condition, Immunization', () => {
    const valid: R[] = [
      observation,
      {
        resourceType: 'MedicationRequest', status: 'active', intent: 'order', priority: 'routine',
        medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '834060' }] },
        subject: { reference: 'Patient/1' }, authoredOn: '2024-01-01', requester: { reference: 'Practitioner/1' },
        dosageInstruction: [{ sequence: 1, text: '1 tab bid', timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd', when: ['MORN', 'EVE'], dayOfWeek: ['mon'] } },
          asNeededBoolean: false, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }] }],
        dispenseRequest: { numberOfRepeatsAllowed: 1, quantity: { value: 30 }, expectedSupplyDuration: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } },
      },
      {
        resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        statusHistory: [{ status: 'in-progress', period: { start: '2024-01-01T10:00:00Z' } }],
        classHistory: [{ class: { code: 'AMB' }, period: { start: '2024-01-01' } }],
        type: [{ coding: [{ system: 'http://snomed.info/sct', code: '185345009' }] }], subject: { reference: 'Patient/1' },
        participant: [{ individual: { reference: 'Practitioner/1' } }], period: { start: '2024-01-01T10:00:00Z', end: '2024-01-01T10:30:00Z' },
        location: [{ location: { reference: 'Location/1' }, status: 'completed' }],
        hospitalization: { dischargeDisposition: { text: 'home' } },
      },
      {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '444814009' }] }, subject: { reference: 'Patient/1' },
        onsetDateTime: '2020-01-01', abatementAge: { value: 40, unit: 'a', system: 'http://unitsofmeasure.org', code: 'a', comparator: '>=' },
      },
      {
        resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '140' }] },
        patient: { reference: 'Patient/1' }, occurrenceDateTime: '2024-01-01', primarySource: true, doseQuantity: { value: 0.5, unit: 'mL' },
        performer: [{ actor: { reference: 'Practitioner/1' } }], protocolApplied: [{ doseNumberPositiveInt: 1 }],
      },
    ];
    for (const r of valid) assert.deepEqual(checkRequiredBindings(r), [], r.resourceType);
    // Condition.clinicalStatus is a CodeableConcept with a required binding: not checked here.
    assert.deepEqual(paths({ resourceType: 'Condition', clinicalStatus: { coding: [{ code: 'banana' }] }, subject: { reference: 'Patient/1' } }), []);
  });

  it('is fast (timing printed, not asserted)', () => {
    const n = 20_000;
    for (let i = 0; i < 2000; i++) checkRequiredBindings(observation);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) checkRequiredBindings(observation);
    console.log(`checkRequiredBindings(blood-pressure Observation): ${(((performance.now() - t0) / n) * 1000).toFixed(2)} µs per call`);
  });
});

const SYNTHEA = '/work/shared/fixtures/synthea';
describe('checkRequiredBindings: Synthea resources pass', () => {
  const files = existsSync(SYNTHEA) ? readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort() : [];
  const picked = [files.find((f) => f.startsWith('Buddy_MacGyver')), files.find((f) => f.startsWith('hospitalInformation')), files.find((f) => f.startsWith('Alexis_Toy'))]
    .filter((f): f is string => !!f);
  it('every resource in 3 Synthea bundles yields no issues', { skip: picked.length ? false : `no Synthea fixtures in ${SYNTHEA}` }, () => {
    let count = 0;
    for (const f of picked) {
      const bundle = JSON.parse(readFileSync(join(SYNTHEA, f), 'utf8')) as R & { entry: { resource: R }[] };
      for (const { resource } of bundle.entry) {
        assert.deepEqual(checkRequiredBindings(resource), [], `${f}: ${resource.resourceType}/${String(resource.id)}`);
        count++;
      }
      assert.deepEqual(checkRequiredBindings(bundle), [], f); // the Bundle itself, entries included
    }
    console.log(`${count} Synthea resources from ${picked.join(', ')}: no issues`);
  });
});
