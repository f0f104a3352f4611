// Every Synthea R4 bundle in ../shared/fixtures/synthea imports cleanly, shared Organizations and Practitioners are
// not duplicated, and searches return exactly what the files contain (counted here independently from the JSON).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testApp, type TestApp } from '../../test-support/app.ts';
import { SYNTHEA_DIR, syntheaSkipReason } from '../../test-support/shared.ts';
import { Loader } from '../../cli/loader.ts';
import { BundleService } from '../../fhir/bundle-service.ts';
import { ResourceService } from '../../fhir/resource-service.ts';

type Resource = { resourceType: string; id?: string; identifier?: { system?: string; value?: string }[]; code?: { coding?: { system?: string; code?: string }[] }; subject?: { reference?: string } };
type Bundle = { entry: { fullUrl: string; resource: Resource }[] };

const SYNTHEA_ID = 'https://github.com/synthetichealth/synthea';
const LOINC = 'http://loinc.org';

describe('Synthea R4 fixtures', { skip: syntheaSkipReason() }, () => {
  let t: TestApp;
  const files = syntheaSkipReason() ? [] : readdirSync(SYNTHEA_DIR).filter((f) => f.endsWith('.json')).sort();
  const bundles = new Map(files.map((f) => [f, JSON.parse(readFileSync(join(SYNTHEA_DIR, f), 'utf8')) as Bundle]));
  const all = () => [...bundles.values()].flatMap((b) => b.entry.map((e) => e.resource));

  before(async () => {
    t = await testApp();
    const loader = new Loader(new BundleService(new ResourceService(t.db), 'http://firekeeper.test/fhir'));
    for (const [file, bundle] of bundles) {
      await assert.doesNotReject(loader.loadBundle(bundle as never), `import of ${file}`);
    }
  });

  it('loads all 52 files, including those with non-ASCII names', () => {
    assert.equal(files.length, 52);
    assert.ok(files.some((f) => f.includes('Acuña')));
  });

  it('stores each clinical resource once and each shared Organization/Practitioner once per identifier', async () => {
    const expected = new Map<string, Set<string>>();
    for (const r of all()) {
      const key = r.resourceType === 'Organization' || r.resourceType === 'Practitioner'
        ? JSON.stringify(r.identifier?.map((i) => [i.system, i.value])[0])
        : `${r.resourceType}:${r.id}`;
      expected.set(r.resourceType, (expected.get(r.resourceType) ?? new Set()).add(key));
    }
    const rows = await t.db.query<{ type: string; n: string }>('SELECT type, count(*)::text AS n FROM resources WHERE NOT deleted GROUP BY type');
    const actual = Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
    const wanted = Object.fromEntries([...expected].map(([type, keys]) => [type, keys.size]));
    assert.deepEqual(actual, wanted);
    assert.equal(actual.Patient, 50);
    assert.equal(actual.Organization, 102);
    assert.equal(actual.Practitioner, 102);
  });

  it('Observation?patient=…&code=http://loinc.org|… returns exactly the Observations in the patient\'s file', async () => {
    const patientFiles = files.filter((f) => !/^(hospital|practitioner)Information/.test(f));
    let checked = 0;
    for (const file of patientFiles.filter((_, i) => i % 5 === 0)) {
      const entries = bundles.get(file)!.entry;
      const patient = entries.find((e) => e.resource.resourceType === 'Patient')!.resource;
      const syntheaId = patient.identifier!.find((i) => i.system === SYNTHEA_ID)!.value!;
      const found = await t.request('GET', `/fhir/Patient?identifier=${encodeURIComponent(`${SYNTHEA_ID}|${syntheaId}`)}`);
      assert.equal(found.json.entry.length, 1, file);
      const serverId = found.json.entry[0].resource.id;

      const observations = entries.map((e) => e.resource).filter((r) => r.resourceType === 'Observation');
      const codes = [...new Set(observations.flatMap((o) => o.code?.coding?.filter((c) => c.system === LOINC).map((c) => c.code!) ?? []))];
      for (const code of codes.slice(0, 4)) {
        const expected = observations.filter((o) => o.code!.coding!.some((c) => c.system === LOINC && c.code === code)).length;
        const res = await t.request('GET', `/fhir/Observation?patient=${serverId}&code=${encodeURIComponent(`${LOINC}|${code}`)}&_count=1000&_total=accurate`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.entry?.length ?? 0, expected, `${file} ${code}`);
        assert.equal(res.json.total, expected);
        assert.ok(res.json.entry.every((e: any) => e.resource.subject.reference === `Patient/${serverId}`));
        checked++;
      }
      const everything = await t.request('GET', `/fhir/Patient/${serverId}/Observation?_summary=count`);
      assert.equal(everything.json.total, observations.length, `${file}: compartment count`);
    }
    assert.ok(checked >= 20, `checked ${checked} patient/code pairs`);
  });
});
