#!/usr/bin/env -S node --import tsx
// population-analytics: a SMART Backend Services app. It authenticates with client_credentials and its private key
// (private_key_jwt), reads every patient with `system/` scopes, and prints a population report; `--html` also
// writes it as a self-contained web page.
//
//   node --import tsx apps/population-analytics/src/main.ts --fhir http://localhost:8080/fhir \
//     --client-id <id> --key key.jwk.json [--alg ES384] [--as-of 2026-01-01] [--html report.html]
//
// The key file is a private JWK (JSON; its `alg` and `kid` are used) or a PKCS#8 PEM (then give --alg, and --kid
// when the registered key set has several keys).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importJWK, importPKCS8, type JWK } from 'jose';
import { BackendServicesClient, FhirClient, type AssertionAlgorithm, type ClientKey } from '@firekeeper/client';
import { populationReport } from './measures.ts';
import { fetchPopulation, REPORT_SCOPE } from './population.ts';
import { reportText } from './report-text.ts';
import { reportHtml } from './report-html.ts';

const ALGS: readonly AssertionAlgorithm[] = ['ES384', 'RS384', 'ES256', 'RS256'];
const USAGE = 'usage: population-analytics --fhir <FHIR base URL> --client-id <id> --key <private JWK or PKCS#8 PEM file> [--alg ES384|RS384|ES256|RS256] [--kid <kid>] [--as-of YYYY-MM-DD] [--html <file>]';

class UsageError extends Error {}

async function loadKey(file: string, clientId: string, alg: string | undefined, kid: string | undefined): Promise<ClientKey> {
  const text = readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as JWK;
    const use = (alg ?? jwk.alg) as AssertionAlgorithm | undefined;
    if (!use || !ALGS.includes(use)) throw new UsageError(`the key's algorithm must be one of ${ALGS.join(', ')} (the JWK's "alg", or --alg)`);
    if (!jwk.d) throw new UsageError(`${file} holds a public key: the app signs with its private key`);
    return { clientId, alg: use, kid: kid ?? jwk.kid, privateKey: (await importJWK(jwk, use)) as CryptoKey };
  }
  if (!alg || !ALGS.includes(alg as AssertionAlgorithm)) throw new UsageError(`with a PEM key, --alg must be one of ${ALGS.join(', ')}`);
  return { clientId, alg: alg as AssertionAlgorithm, kid, privateKey: await importPKCS8(text, alg) };
}

function asOfDate(value: string | undefined): Date {
  if (value === undefined) return new Date();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new UsageError('--as-of must be a date, YYYY-MM-DD');
  return new Date(`${value}T23:59:59.999Z`);
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      fhir: { type: 'string' }, 'client-id': { type: 'string' }, key: { type: 'string' }, alg: { type: 'string' },
      kid: { type: 'string' }, 'as-of': { type: 'string' }, html: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.fhir || !values['client-id'] || !values.key) throw new UsageError(USAGE);
  const asOf = asOfDate(values['as-of']);
  const key = await loadKey(values.key, values['client-id'], values.alg?.toUpperCase(), values.kid);
  const tokens = new BackendServicesClient({ iss: values.fhir, scope: REPORT_SCOPE, ...key });
  const report = populationReport(await fetchPopulation(new FhirClient(values.fhir, tokens)), asOf);
  process.stdout.write(`${reportText(report)}\n`);
  if (values.html) {
    writeFileSync(values.html, reportHtml(report));
    process.stdout.write(`\nHTML report: ${values.html}\n`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
    // Errors from the SDK say what failed (discovery, the token request, a FHIR request) without a stack trace.
    process.stderr.write(`population-analytics: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
