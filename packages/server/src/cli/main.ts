#!/usr/bin/env node
// The `firekeeper` command: serve, seed, import, migrate.
import { parseArgs } from 'node:util';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import cliProgress from 'cli-progress';
import { loadConfig, SANDBOX_ADMIN_TOKEN, type Config } from '../config.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { buildApp } from '../app.ts';
import { ensureSandboxUsers } from './sandbox-users.ts';
import { issueAccessToken } from '../auth/access-token.ts';
import { KeyRing } from '../auth/key-ring.ts';
import { ID_TOKEN_LIFETIME_S } from '../auth/id-token.ts';
import { parseScopeString } from '../access/scope-grammar.ts';
import { ResourceService } from '../fhir/resource-service.ts';
import { BundleService } from '../fhir/bundle-service.ts';
import { Loader } from './loader.ts';
import { CLIENTS_OPTIONS, CLIENTS_USAGE, clientsCommand } from './clients-command.ts';
import { currentSigningKeys, ensureSigningKeys, pruneRetiredKeys, rotateSigningKeys } from '../auth/signing-keys.ts';
import { generatePatient, generateShared } from './seed/generator.ts';
import { formatVerifyResult, verifyAuditTrail } from '../audit/audit-verify.ts';

const USAGE = `usage: firekeeper <command> [options]

commands:
  serve                      start the server (seeds sample data on first start in sandbox mode)
  seed --patients N --seed S generate N synthetic patients (deterministic in S)
  import FILE|DIR...         load FHIR Bundles (.json) and NDJSON (.ndjson)
  migrate                    apply database migrations and exit
  clients …                  register and manage apps (firekeeper clients --help)
  token [--scope S]... [--lifetime SECONDS]
                             sandbox only: print an access token for curl (default scope system/*.rs, 3600 s)
  keys list                  show the signing keys in use
  keys rotate [--overlap S]  add new signing keys; the old ones stay published for S seconds (default: the
                             longest lifetime of a signed token, so none is rejected early)
  audit verify               check the audit trail's hash chain; prints the first broken link (exit 1) if any

options:
  --database URL|DIR   postgres://… or a folder for the embedded database (env DATABASE_URL; default .firekeeper/data)
  --db-pool-size N     connections to PostgreSQL (env FIREKEEPER_DB_POOL_SIZE; default twice the cores, at least 4)
  --base-url URL       public base URL (env FIREKEEPER_BASE_URL)
  --host H --port P    where to listen (env FIREKEEPER_HOST, PORT; default 127.0.0.1:8080)
  --mode sandbox|production
  --tls-cert FILE --tls-key FILE   serve HTTPS (TLS 1.2+ only)
  --insecure-http      allow plain HTTP on a non-loopback address
  --trust-proxy LIST   proxy addresses/CIDRs whose X-Forwarded-* headers are believed
  --admin-token TOKEN  bearer token for the admin API (env FIREKEEPER_ADMIN_TOKEN, preferred: flags show in ps);
                       production needs 32+ characters, sandbox defaults to '${SANDBOX_ADMIN_TOKEN}'
`;

const DEFAULT_SANDBOX_PATIENTS = 25;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      database: { type: 'string' }, 'db-pool-size': { type: 'string' }, 'base-url': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' },
      mode: { type: 'string' }, patients: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      'log-level': { type: 'string' }, overlap: { type: 'string' }, lifetime: { type: 'string' },
      ...CLIENTS_OPTIONS,
      'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'insecure-http': { type: 'boolean' }, 'trust-proxy': { type: 'string' },
      'admin-token': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(command === 'clients' ? `${CLIENTS_USAGE}\n` : USAGE);
    return;
  }
  const config = loadConfig({ database: values.database, dbPoolSize: values['db-pool-size'], baseUrl: values['base-url'], host: values.host, port: values.port, mode: values.mode, logLevel: values['log-level'],
    tlsCert: values['tls-cert'], tlsKey: values['tls-key'], insecureHttp: values['insecure-http'], trustProxy: values['trust-proxy'],
    adminToken: values['admin-token'],
  });
  const db = await openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  await migrate(db);
  switch (command) {
    case 'migrate':
      await db.close();
      return;
    case 'serve':
      return serve(config, db);
    case 'seed': {
      const patients = Number(values.patients ?? 100);
      if (!Number.isInteger(patients) || patients < 1) throw new Error('--patients must be a positive integer');
      await seed(db, config, patients, values.seed ?? 'firekeeper');
      return db.close();
    }
    case 'clients':
      await clientsCommand(db, rest[0], rest[1], values, (text) => process.stdout.write(text));
      return db.close();
    case 'token':
      await printToken(db, config, values.scope ?? ['system/*.rs'], values.lifetime ?? '3600');
      return db.close();
    case 'keys':
      await keys(db, rest[0], values.overlap);
      return db.close();
    case 'audit':
      await audit(db, rest[0]);
      return db.close();
    case 'import':
      if (rest.length === 0) throw new Error('import needs at least one FILE or DIR');
      await importPaths(db, config, rest);
      return db.close();
    default:
      throw new Error(`unknown command '${command}'\n\n${USAGE}`);
  }
}

async function serve(config: Config, db: Database): Promise<void> {
  if (config.mode === 'sandbox') {
    process.stdout.write('Firekeeper is running in SANDBOX mode: sample data and sample users. Do not put real patient data here.\n');
    // Only the documented development value is ever printed; a configured token never is.
    if (config.adminToken === SANDBOX_ADMIN_TOKEN) process.stdout.write(`Admin API token: '${SANDBOX_ADMIN_TOKEN}' (the development value; set FIREKEEPER_ADMIN_TOKEN to change it).\n`);
    const [{ n }] = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM resources WHERE type = 'Patient'");
    if (n === '0') await seed(db, config, DEFAULT_SANDBOX_PATIENTS, 'firekeeper');
    const users = await ensureSandboxUsers(db);
    process.stdout.write(`Sample users (development passwords):\n${users.map((u) => `  ${u.username.padEnd(10)} ${u.password.padEnd(18)} ${u.name}${u.fhirUser ? ` (${u.fhirUser})` : ''}\n`).join('')}`);
  }
  const app = await buildApp({ config, db });
  await app.listen({ host: config.host, port: config.port });
  const engine = db.engine === 'pglite' ? `embedded PGlite at ${config.databaseUrl}` : 'PostgreSQL';
  if (config.tls) process.stdout.write('Serving HTTPS (TLS 1.2 or newer).\n');
  else if (config.insecureHttp) process.stdout.write(`WARNING: serving plain HTTP on ${config.host} (--insecure-http): tokens and health data cross the network unencrypted.\n`);
  else process.stdout.write(`Serving plain HTTP on loopback (${config.host}) only.\n`);
  process.stdout.write(`\nFirekeeper is listening (${engine})\n  FHIR base:           ${config.baseUrl}/fhir\n  CapabilityStatement: ${config.baseUrl}/fhir/metadata\n  SMART discovery:     ${config.baseUrl}/fhir/.well-known/smart-configuration\n  Authorize:           ${config.baseUrl}/auth/authorize\n  Token:               ${config.baseUrl}/auth/token\n  Home page:           ${config.baseUrl}/\n  EHR:                 ${config.baseUrl}/ehr\n  Patient portal:      ${config.baseUrl}/portal\n  Admin console:       ${config.baseUrl}/admin\n`);
  // A second signal while closing (Ctrl-C reaches both `npm start` and this process) must not cut the close short:
  // the audit writer's last batch and the embedded database's files are written out first.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** A sandbox convenience: a real access token, minted directly (production tokens come from the token endpoint). */
async function printToken(db: Database, config: Config, scopes: string[], lifetime: string): Promise<void> {
  if (config.mode !== 'sandbox') throw new Error('firekeeper token works in sandbox mode only; in production, get tokens from the token endpoint');
  const seconds = Number(lifetime);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new Error('--lifetime must be 1 to 86400 seconds');
  const invalid = parseScopeString(scopes.join(' ')).invalid[0];
  if (invalid) throw new Error(`invalid scope ${invalid.raw}: ${invalid.reason}`);
  await ensureSigningKeys(db);
  const { token } = await issueAccessToken(new KeyRing(db), {
    issuer: config.baseUrl, audience: `${config.baseUrl}/fhir`, clientId: 'firekeeper-cli', subject: 'firekeeper-cli', scope: scopes.join(' '), lifetimeSeconds: seconds,
  });
  process.stdout.write(`${token}\n`);
}

/** The longest a token signed now can stay valid: an id_token, or the longest access-token lifetime of any client. */
async function longestTokenLifetime(db: Database): Promise<number> {
  const [row] = await db.query<{ s: number | null }>('SELECT max(access_token_lifetime) AS s FROM clients');
  return Math.max(ID_TOKEN_LIFETIME_S, Number(row?.s ?? 0));
}

async function keys(db: Database, action: string | undefined, overlap: string | undefined): Promise<void> {
  await ensureSigningKeys(db);
  if (action === 'rotate') {
    const longest = await longestTokenLifetime(db);
    const seconds = overlap === undefined ? longest : Number(overlap);
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error('--overlap must be a whole number of seconds');
    if (seconds < longest) process.stdout.write(`warning: tokens live up to ${longest} s; tokens signed by the previous keys stop verifying after ${seconds} s\n`);
    await pruneRetiredKeys(db);
    const kids = await rotateSigningKeys(db, seconds);
    process.stdout.write(`new signing keys: ${kids.join(', ')}; previous keys stay published for ${seconds} s\n`);
  } else if (action !== 'list') {
    throw new Error(`usage: firekeeper keys list|rotate [--overlap SECONDS]`);
  }
  for (const k of await currentSigningKeys(db)) {
    process.stdout.write(`${k.alg.padEnd(6)} ${k.kid}  ${k.status}${k.retireAt ? ` until ${k.retireAt}` : ''}\n`);
  }
}

async function audit(db: Database, action: string | undefined): Promise<void> {
  if (action !== 'verify') throw new Error('usage: firekeeper audit verify');
  const { text, exitCode } = formatVerifyResult(await verifyAuditTrail(db));
  process.stdout.write(text);
  process.exitCode = exitCode;
}

function services(db: Database, config: Config) {
  return new BundleService(new ResourceService(db, { fhirBase: `${config.baseUrl}/fhir` }), `${config.baseUrl}/fhir`);
}

function progressBar(label: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, noTTYOutput: true, notTTYSchedule: 5000, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

async function seed(db: Database, config: Config, patients: number, seedValue: string): Promise<void> {
  const loader = new Loader(services(db, config));
  const opts = { seed: seedValue };
  await loader.loadBundle(generateShared(opts) as never);
  const bar = progressBar('seeding patients', patients);
  // On a PostgreSQL server several bundles load at once; PGlite has a single connection.
  const workers = db.engine === 'postgres' ? Math.max(2, cpus().length * 2) : 1;
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < patients) {
      const i = next++;
      await loader.loadBundle(generatePatient(i, opts) as never);
      bar.increment();
    }
  }));
  bar.stop();
  process.stdout.write(`seeded ${patients} patients (${loader.summary.entries} resources, seed '${seedValue}')\n`);
}

function listFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => listFiles(join(path, name))).filter((f) => /\.(json|ndjson)$/.test(f));
}

async function importPaths(db: Database, config: Config, paths: string[]): Promise<void> {
  const files = paths.flatMap(listFiles);
  const loader = new Loader(services(db, config));
  const bar = progressBar('importing files', files.length);
  const failures: string[] = [];
  for (const file of files) {
    try {
      const text = readFileSync(file, 'utf8');
      if (file.endsWith('.ndjson')) await loader.loadNdjson(text);
      else await loader.loadBundle(JSON.parse(text) as Record<string, unknown>);
    } catch (err) {
      failures.push(`${file}: ${(err as Error).message}`);
    }
    bar.increment();
  }
  bar.stop();
  const { bundles, entries, byType } = loader.summary;
  process.stdout.write(`imported ${entries} resources from ${bundles} bundles (${files.length} files)\n`);
  for (const [type, n] of Object.entries(byType).sort()) process.stdout.write(`  ${type.padEnd(28)} ${n}\n`);
  if (failures.length) {
    process.stderr.write(`${failures.length} files failed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`firekeeper: ${err.message}\n`);
  process.exit(1);
});
