import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateRange, extractIndexRows, normalizeString, type IndexRows } from './index-extract.ts';

type Resource = Parameters<typeof extractIndexRows>[0];
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

const bloodPressure: Resource = {
  resourceType: 'Observation',
  id: 'bp',
  meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'], tag: [{ system: 'urn:t', code: 'demo', display: 'Démo' }] },
  status: 'final',
  category: [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] },
  ],
  code: { coding: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel' }], text: 'Blood  Pressure' },
  subject: { reference: 'Patient/x' },
  performer: [{ reference: 'Practitioner/dr' }, { reference: 'Patient/x' }],
  effectiveDateTime: '2012-09-17',
  component: [
    {
      code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic' }] },
      valueQuantity: { value: 107, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
    },
    {
      code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic' }] },
      valueQuantity: { value: 60, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
    },
  ],
};

/** The rows of one table for one parameter key, without the key. */
function rows<K extends Exclude<keyof IndexRows, 'compartments'>>(r: IndexRows, table: K, p: string): Omit<IndexRows[K][number], 'p'>[] {
  return (r[table] as IndexRows[K][number][]).filter((row) => row.p === p).map(({ p: _p, ...rest }) => rest);
}

describe('normalizeString', () => {
  it('lower-cases, removes accents and collapses whitespace', () => {
    assert.equal(normalizeString('  Acuña  '), 'acuna');
    assert.equal(normalizeString('José\t\n María'), 'jose maria');
    assert.equal(normalizeString('MÜLLER-Lüdenscheidt'), 'muller-ludenscheidt');
  });
});

describe('dateRange: R4 search.html#date, "the implicit range" of a date at its precision', () => {
  it('a year, a month and a day', () => {
    assert.deepEqual(dateRange('2019'), { lo: '2019-01-01T00:00:00.000Z', hi: '2020-01-01T00:00:00.000Z' });
    assert.deepEqual(dateRange('2019-12'), { lo: '2019-12-01T00:00:00.000Z', hi: '2020-01-01T00:00:00.000Z' });
    assert.deepEqual(dateRange('2020-02-29'), { lo: '2020-02-29T00:00:00.000Z', hi: '2020-03-01T00:00:00.000Z' });
  });

  it('a dateTime with an offset, in UTC, to the second', () => {
    assert.deepEqual(dateRange('2019-05-06T10:00:00-04:00'), { lo: '2019-05-06T14:00:00.000Z', hi: '2019-05-06T14:00:01.000Z' });
    assert.deepEqual(dateRange('2019-05-06T10:00:00.25Z'), { lo: '2019-05-06T10:00:00.250Z', hi: '2019-05-06T10:00:00.260Z' });
  });

  it('reads a time without zone as UTC', () => {
    assert.deepEqual(dateRange('2019-05-06T10:00:00'), { lo: '2019-05-06T10:00:00.000Z', hi: '2019-05-06T10:00:01.000Z' });
  });

  it('rejects invalid values', () => {
    for (const v of ['2019-02-29', '2019-13', '0000', '19', '2019-05-06T25:00:00Z', '2019-05-06T10:00:00+15:00', 'yesterday', '']) {
      assert.equal(dateRange(v), null, v);
    }
  });

  it('stays within years 1-9999', () => {
    assert.deepEqual(dateRange('9999'), { lo: '9999-01-01T00:00:00.000Z', hi: 'infinity' });
    assert.equal(dateRange('0001-01-01T00:30:00+01:00')?.lo, '-infinity');
  });
});

describe('extractIndexRows: Observation (blood pressure panel)', () => {
  const r = extractIndexRows(bloodPressure);

  it('token rows for code (one per coding, plus the text), category and component-code', () => {
    assert.deepEqual(rows(r, 'token', 'Observation.code'), [
      { system: LOINC, code: '85354-9', text: 'blood pressure panel' },
      { system: null, code: null, text: 'blood pressure' },
    ]);
    assert.deepEqual(rows(r, 'token', 'Observation.category'), [
      { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', text: 'vital signs' },
    ]);
    assert.deepEqual(
      rows(r, 'token', 'Observation.component-code').map((t) => t.code),
      ['8480-6', '8462-4'],
    );
    assert.deepEqual(rows(r, 'token', 'Observation.status'), [{ system: null, code: 'final', text: null }]);
  });

  it('reference rows for subject and patient', () => {
    const patient = { targetType: 'Patient', targetId: 'x', url: null };
    assert.deepEqual(rows(r, 'reference', 'Observation.subject'), [patient]);
    assert.deepEqual(rows(r, 'reference', 'Observation.patient'), [patient]);
    assert.deepEqual(rows(r, 'reference', 'Observation.performer'), [{ targetType: 'Practitioner', targetId: 'dr', url: null }, patient]);
  });

  it('quantity rows with value, system, code and unit', () => {
    assert.deepEqual(rows(r, 'quantity', 'Observation.component-value-quantity'), [
      { value: '107', system: UCUM, code: 'mm[Hg]', unit: 'mmHg' },
      { value: '60', system: UCUM, code: 'mm[Hg]', unit: 'mmHg' },
    ]);
    assert.deepEqual(rows(r, 'quantity', 'Observation.value-quantity'), []);
  });

  it('Resource._tag and _profile rows', () => {
    assert.deepEqual(rows(r, 'token', 'Observation._tag'), [{ system: 'urn:t', code: 'demo', text: 'demo' }]);
    assert.deepEqual(rows(r, 'uri', 'Observation._profile'), [{ value: 'http://hl7.org/fhir/StructureDefinition/vitalsigns' }]);
  });

  it('date row for effective, and the Patient compartment from subject and performer, once', () => {
    assert.deepEqual(rows(r, 'date', 'Observation.date'), [{ lo: '2012-09-17T00:00:00.000Z', hi: '2012-09-18T00:00:00.000Z' }]);
    assert.deepEqual(r.compartments, ['Patient/x']);
  });

  it('leaves the resource untouched', () => {
    const copy = structuredClone(bloodPressure);
    extractIndexRows(copy);
    assert.deepEqual(copy, bloodPressure);
  });
});

describe('extractIndexRows: Patient', () => {
  const r = extractIndexRows({
    resourceType: 'Patient',
    id: 'p1',
    name: [{ family: 'Acuña', given: ['José', 'María'], prefix: ['Sr.'], text: 'José Acuña' }],
    address: [{ line: ['1 Rue de l’Église'], city: 'Montréal', state: 'QC', postalCode: 'H2X 1Y4', country: 'CA' }],
    telecom: [{ system: 'email', value: 'jose@example.org' }, { system: 'phone', value: '555-0100' }],
    identifier: [{ system: 'urn:mrn', value: '42', type: { text: 'Medical Record Number' } }],
    gender: 'male',
    active: true,
    birthDate: '1970-06',
    link: [{ other: { reference: 'Patient/p2' }, type: 'seealso' }],
  });

  it('string rows for every name part, accents removed in norm', () => {
    assert.deepEqual(rows(r, 'string', 'Patient.family'), [{ norm: 'acuna', exact: 'Acuña' }]);
    assert.deepEqual(
      rows(r, 'string', 'Patient.name').map((s) => s.norm),
      ['acuna', 'jose acuna', 'jose', 'maria', 'sr.'],
    );
  });

  it('string rows for every address part', () => {
    assert.deepEqual(
      rows(r, 'string', 'Patient.address').map((s) => s.exact),
      ['1 Rue de l’Église', 'Montréal', 'QC', 'H2X 1Y4', 'CA'],
    );
    assert.deepEqual(rows(r, 'string', 'Patient.address-city'), [{ norm: 'montreal', exact: 'Montréal' }]);
  });

  it('token rows for identifier, telecom, code and boolean', () => {
    assert.deepEqual(rows(r, 'token', 'Patient.identifier'), [{ system: 'urn:mrn', code: '42', text: 'medical record number' }]);
    assert.deepEqual(rows(r, 'token', 'Patient.email'), [{ system: null, code: 'jose@example.org', text: null }]);
    assert.deepEqual(rows(r, 'token', 'Patient.phone'), [{ system: null, code: '555-0100', text: null }]);
    assert.deepEqual(rows(r, 'token', 'Patient.gender'), [{ system: null, code: 'male', text: null }]);
    assert.deepEqual(rows(r, 'token', 'Patient.active'), [{ system: null, code: 'true', text: null }]);
  });

  it('a partial birthDate is the month it names', () => {
    assert.deepEqual(rows(r, 'date', 'Patient.birthdate'), [{ lo: '1970-06-01T00:00:00.000Z', hi: '1970-07-01T00:00:00.000Z' }]);
  });

  it('is in its own compartment and in those of the patients it links to', () => {
    assert.deepEqual(r.compartments, ['Patient/p1', 'Patient/p2']);
  });
});

describe('extractIndexRows: references', () => {
  const r = extractIndexRows({
    resourceType: 'MedicationRequest',
    id: 'm',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '582620', display: 'Nizatidine' }] },
    subject: { reference: 'https://other.example/fhir/Patient/p9/_history/2' },
    requester: { reference: '#prescriber' },
    performer: { reference: 'urn:uuid:6f1b1e0e-4f4a-4b8e-9b43-3c3f3f3f3f3f' },
    dispenseRequest: { performer: { identifier: { system: 'urn:npi', value: '123' } } },
    encounter: { reference: 'Encounter/e1/_history/3' },
    authoredOn: '2015-01-15',
  });

  it('medicationCodeableConcept is a token of code; no medication reference', () => {
    assert.deepEqual(rows(r, 'token', 'MedicationRequest.code'), [
      { system: RXNORM, code: '582620', text: 'nizatidine' },
    ]);
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.medication'), []);
  });

  it('an absolute URL keeps the url and the type and id it names', () => {
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.subject'), [
      { targetType: 'Patient', targetId: 'p9', url: 'https://other.example/fhir/Patient/p9/_history/2' },
    ]);
  });

  it('an absolute URL to another server does not place the resource in a local compartment', () => {
    assert.deepEqual(r.compartments, []);
  });

  it('strips the version of a relative reference', () => {
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.encounter'), [{ targetType: 'Encounter', targetId: 'e1', url: null }]);
  });

  it('skips contained and identifier-only references, keeps other URIs as url only', () => {
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.requester'), []);
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.intended-dispenser'), []);
    assert.deepEqual(rows(r, 'reference', 'MedicationRequest.intended-performer'), [
      { targetType: null, targetId: null, url: 'urn:uuid:6f1b1e0e-4f4a-4b8e-9b43-3c3f3f3f3f3f' },
    ]);
  });

  it('a canonical reached by a reference parameter is stored as url', () => {
    const canonical = 'http://x.org/Library/base|1.0';
    const lib = extractIndexRows({ resourceType: 'Library', relatedArtifact: [{ type: 'depends-on', resource: canonical }] });
    assert.deepEqual(rows(lib, 'reference', 'Library.depends-on'), [{ targetType: null, targetId: null, url: canonical }]);
  });

  it('`.where(resolve() is Patient)` keeps only Patient references', () => {
    const group = extractIndexRows({ resourceType: 'Observation', code: { text: 'x' }, subject: { reference: 'Group/g' } });
    assert.deepEqual(rows(group, 'reference', 'Observation.subject'), [{ targetType: 'Group', targetId: 'g', url: null }]);
    assert.deepEqual(rows(group, 'reference', 'Observation.patient'), []);
    assert.deepEqual(group.compartments, []);
  });
});

describe('extractIndexRows: compartments and choice types', () => {
  it('Condition onsetDateTime is a date range in UTC', () => {
    const r = extractIndexRows({
      resourceType: 'Condition',
      subject: { reference: 'Patient/p1' },
      onsetDateTime: '2019-05-06T10:00:00-04:00',
    });
    assert.deepEqual(rows(r, 'date', 'Condition.onset-date'), [{ lo: '2019-05-06T14:00:00.000Z', hi: '2019-05-06T14:00:01.000Z' }]);
    assert.deepEqual(r.compartments, ['Patient/p1']);
  });

  it('Encounter: a Practitioner participant is indexed but the Patient compartment comes only from subject', () => {
    const r = extractIndexRows({
      resourceType: 'Encounter',
      status: 'finished',
      subject: { reference: 'Patient/p1' },
      participant: [{ individual: { reference: 'Practitioner/dr' } }],
      period: { start: '2020-01-01T10:00:00Z' },
    });
    assert.deepEqual(rows(r, 'reference', 'Encounter.practitioner'), [{ targetType: 'Practitioner', targetId: 'dr', url: null }]);
    assert.deepEqual(rows(r, 'date', 'Encounter.date'), [{ lo: '2020-01-01T10:00:00.000Z', hi: 'infinity' }]);
    assert.deepEqual(r.compartments, ['Patient/p1']);
  });

  it('Immunization is in the compartment of its patient', () => {
    const r = extractIndexRows({ resourceType: 'Immunization', vaccineCode: { text: 'Flu' }, patient: { reference: 'Patient/p3' } });
    assert.deepEqual(rows(r, 'reference', 'Immunization.patient'), [{ targetType: 'Patient', targetId: 'p3', url: null }]);
    assert.deepEqual(r.compartments, ['Patient/p3']);
  });

  it('Period and Timing are ranges', () => {
    const period = extractIndexRows({ resourceType: 'Encounter', period: { start: '2020-01', end: '2020-02-03' } });
    assert.deepEqual(rows(period, 'date', 'Encounter.date'), [{ lo: '2020-01-01T00:00:00.000Z', hi: '2020-02-04T00:00:00.000Z' }]);
    const timing = extractIndexRows({
      resourceType: 'ServiceRequest',
      occurrenceTiming: { event: ['2020-03-05T08:00:00Z', '2020-03-01', 'not a date'] },
    });
    assert.deepEqual(rows(timing, 'date', 'ServiceRequest.occurrence'), [
      { lo: '2020-03-01T00:00:00.000Z', hi: '2020-03-05T08:00:01.000Z' },
    ]);
    const bounds = extractIndexRows({
      resourceType: 'ServiceRequest',
      occurrenceTiming: { repeat: { boundsPeriod: { end: '2020-04' } } },
    });
    assert.deepEqual(rows(bounds, 'date', 'ServiceRequest.occurrence'), [{ lo: '-infinity', hi: '2020-05-01T00:00:00.000Z' }]);
  });

  it('numbers, Money and Age', () => {
    const risk = extractIndexRows({ resourceType: 'RiskAssessment', prediction: [{ probabilityDecimal: 0.025 }] });
    assert.deepEqual(rows(risk, 'number', 'RiskAssessment.probability'), [{ value: '0.025' }]);
    const charge = extractIndexRows({ resourceType: 'ChargeItem', priceOverride: { value: 12.5, currency: 'EUR' } });
    assert.deepEqual(rows(charge, 'quantity', 'ChargeItem.price-override'), [
      { value: '12.5', system: 'urn:iso:std:iso:4217', code: 'EUR', unit: null },
    ]);
    const condition = extractIndexRows({ resourceType: 'Condition', onsetAge: { value: 50, unit: 'years', system: UCUM, code: 'a' } });
    assert.deepEqual(rows(condition, 'quantity', 'Condition.onset-age'), [{ value: '50', system: UCUM, code: 'a', unit: 'years' }]);
  });
});

describe('extractIndexRows: odd input', () => {
  it('skips values of the wrong shape and bad dates without throwing', () => {
    const r = extractIndexRows({
      resourceType: 'Observation',
      subject: { reference: 42 },
      effectiveDateTime: '2019-02-30',
      valueQuantity: { value: 'abc' },
      component: {},
      meta: { tag: [{}] },
    });
    assert.deepEqual([r.reference, r.date, r.quantity, r.token, r.compartments], [[], [], [], [], []]);
  });

  it('gives no rows for an unknown type', () => {
    const r = extractIndexRows({ resourceType: 'NotAType', id: 'x' });
    assert.deepEqual(Object.values(r).flat(), []);
  });

  it('deduplicates identical rows', () => {
    const r = extractIndexRows({ resourceType: 'Observation', category: [{ coding: [{ code: 'a' }] }, { coding: [{ code: 'a' }] }] });
    assert.deepEqual(rows(r, 'token', 'Observation.category'), [{ system: null, code: 'a', text: null }]);
  });
});

describe('extractIndexRows: performance', () => {
  it('extracts a typical Observation quickly (printed, not asserted)', () => {
    for (let i = 0; i < 200; i++) extractIndexRows(bloodPressure);
    const start = performance.now();
    for (let i = 0; i < 1000; i++) extractIndexRows(bloodPressure);
    const ms = performance.now() - start;
    console.log(`1000 Observation extractions: ${ms.toFixed(1)} ms (${(ms / 1000).toFixed(3)} ms each)`);
  });
});
