// The population-analytics app against a real Firekeeper on loopback: generated patients plus the hand-made ones of
// hand-made-population.ts are loaded through the FHIR API; the app authenticates as a registered backend service (ES384
// private_key_jwt), pages through every search, and its report must equal the one computed straight from the
// source bundles in this test (no server, no paging, no search filters). The CLI is run as a user runs it.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { Condition, Immunization, Observation, Patient } from 'fhir/r4.js';
import { BackendServicesClient, FhirClient } from '@firekeeper/client';
import { listeningApp, type ListeningApp } from '../../../packages/server/src/test-support/listening-app.ts';
import { registerClient } from '../../../packages/server/src/auth/clients/client-store.ts';
import { generatePatient, generateShared } from '../../../packages/server/src/cli/seed/generator.ts';
import { populationReport, type PopulationData } from './measures.ts';
import { fetchPopulation, REPORT_SCOPE } from './population.ts';
import { reportText } from './report-text.ts';
import { AS_OF, handMadePopulation } from './hand-made-population.ts';

const GENERATED = 12;
const MAIN = new URL('./main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'population-analytics-'));

let fk: ListeningApp;
let clientId = '';
let privateKey: CryptoKey;
const keyFile = join(dir, 'key.jwk.json');
/** What the source bundles say, with urn:uuid references turned into the Patient/<id> the report reads. */
let source: PopulationData;

type Bundle = { entry?: { fullUrl?: string; resource?: { resourceType: string; id?: string } }[] };

async function post(bundle: unknown): Promise<void> {
  const res = await fetch(fk.fhirBase, { method: 'POST', headers: { authorization: `Bearer ${fk.seedToken}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  assert.equal(res.status, 200, await res.text());
}

/** The hand-made resources as one transaction (PUT, so their ids are kept). */
function handMadeTransaction(data: PopulationData) {
  const resources = [...data.patients, ...data.conditions, ...data.observations, ...data.immunizations];
  return {
    resourceType: 'Bundle', type: 'transaction',
    entry: resources.map((r, i) => {
      const id = r.id ?? `hand-${i}`;
      return { resource: { ...r, id }, request: { method: 'PUT', url: `${r.resourceType}/${id}` } };
    }),
  };
}

/** A generated bundle's resources, with each urn:uuid Patient reference made `Patient/<uuid>` (the patient's id). */
function sourceResources(bundle: Bundle) {
  const resources = (bundle.entry ?? []).map((e) => ({ ...e.resource!, ...(e.resource!.resourceType === 'Patient' ? { id: e.fullUrl!.slice('urn:uuid:'.length) } : {}) }));
  return JSON.parse(JSON.stringify(resources).replace(/"urn:uuid:([0-9a-f-]{36})"/g, '"Patient/$1"')) as { resourceType: string }[];
}

before(async () => {
  fk = await listeningApp();
  const pair = await generateKeyPair('ES384', { extractable: true });
  privateKey = pair.privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'analytics-1', alg: 'ES384', use: 'sig' };
  writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid: 'analytics-1', alg: 'ES384' }));
  clientId = (await registerClient(fk.db, { name: 'Population analytics', type: 'backend-service', jwks: { keys: [publicJwk] }, scopes: REPORT_SCOPE.split(' ') })).client.clientId;

  await post(generateShared({ seed: 'analytics' }));
  const hand = handMadePopulation();
  const all: { resourceType: string }[] = [...hand.patients, ...hand.conditions, ...hand.observations, ...hand.immunizations];
  for (let i = 0; i < GENERATED; i++) {
    const bundle = generatePatient(i, { seed: 'analytics' });
    await post(bundle);
    all.push(...sourceResources(bundle as Bundle));
  }
  await post(handMadeTransaction(hand));
  const of = <T>(type: string) => all.filter((r) => r.resourceType === type) as T[];
  source = { patients: of<Patient>('Patient'), conditions: of<Condition>('Condition'), observations: of<Observation>('Observation'), immunizations: of<Immunization>('Immunization') };
});

const fhirFor = () => new FhirClient(fk.fhirBase, new BackendServicesClient({ iss: fk.fhirBase, scope: REPORT_SCOPE, clientId, privateKey, alg: 'ES384', kid: 'analytics-1' }));

/** Runs the CLI in a process of its own (asynchronously: the server it talks to runs in this one). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
}

describe('population analytics against Firekeeper', () => {
  it('reads every page of every search and reports what the source bundles say', async () => {
    const expected = populationReport(source, AS_OF);
    // A small page size, so each search takes several pages.
    const report = populationReport(await fetchPopulation(fhirFor(), 7), AS_OF);
    assert.deepEqual(report, expected);
    const patients = Object.values(report.patients).reduce((a, b) => a + b, 0);
    assert.ok(patients > GENERATED, `${patients} living patients`);
    assert.ok(report.hypertension.some((h) => h.aboveTarget > 0), 'the data has someone above target');
    assert.ok(report.vaccines.every((v) => v.eligible > 0), 'every vaccine has eligible patients');
  });

  it('the CLI prints the report and writes a self-contained HTML page', async () => {
    const html = join(dir, 'report.html');
    const run = await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', keyFile, '--as-of', '2026-01-01', '--html', html]);
    assert.equal(run.status, 0, run.stderr);
    const expected = populationReport(source, AS_OF);
    assert.ok(run.stdout.startsWith(reportText(expected)), run.stdout);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /<svg role="img"/);
    assert.match(page, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(page, /<script|https?:\/\//);
    for (const v of expected.vaccines) assert.ok(page.includes(`<th scope="row">${v.name}</th><td>${v.eligible}</td><td>${v.vaccinated}</td>`), v.name);
  });

  it('takes the key as a PKCS#8 PEM file too, with --alg and --kid (and refuses one without --alg)', async () => {
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, await exportPKCS8(privateKey));
    const run = await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', pem, '--alg', 'es384', '--kid', 'analytics-1', '--as-of', '2026-01-01']);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.startsWith(reportText(populationReport(source, AS_OF))));
    const noAlg = await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', pem]);
    assert.equal(noAlg.status, 2);
    assert.match(noAlg.stderr, /with a PEM key, --alg must be one of/);
  });

  it('says what went wrong, without a stack trace: a key the server does not know, bad arguments, no server', async () => {
    const other = await generateKeyPair('ES384', { extractable: true });
    const wrongKey = join(dir, 'wrong.jwk.json');
    writeFileSync(wrongKey, JSON.stringify({ ...(await exportJWK(other.privateKey)), kid: 'analytics-1', alg: 'ES384' }));
    const refused = await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', wrongKey]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /invalid_client/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /);

    const usage = await cli(['--fhir', fk.fhirBase]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: population-analytics/);
    const badDate = await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', keyFile, '--as-of', 'yesterday']);
    assert.equal(badDate.status, 2);
    assert.match(badDate.stderr, /--as-of must be a date/);
    const publicOnly = join(dir, 'public.jwk.json');
    writeFileSync(publicOnly, JSON.stringify({ ...(await exportJWK(other.publicKey)), alg: 'ES384' }));
    assert.match((await cli(['--fhir', fk.fhirBase, '--client-id', clientId, '--key', publicOnly])).stderr, /holds a public key/);

    const down = await cli(['--fhir', 'http://127.0.0.1:9/fhir', '--client-id', clientId, '--key', keyFile]);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /cannot reach/);
  });
});
