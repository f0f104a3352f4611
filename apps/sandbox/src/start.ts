// `npm start`: starts Firekeeper (`firekeeper serve`, with the arguments given) and, in sandbox mode, the sample
// apps: the point-of-care app is registered and served on its own port (a separate origin, as apps are), and the
// population-analytics backend service is registered with a key kept beside the embedded database.
//
//   npm start [-- --port 8080 --database DIR …]    POC_PORT (default: Firekeeper's port + 10) moves the app
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../../packages/server/src/config.ts';
import { pointOfCareHandler } from '@firekeeper/point-of-care';
import { registerPointOfCare, registerPopulationAnalytics } from './sample-apps.ts';

const SERVER = new URL('../../../packages/server/src/cli/main.ts', import.meta.url).pathname;
const args = process.argv.slice(2);
// Only the settings the sample apps need; `serve` itself checks every argument.
const setting = { type: 'string' } as const;
const { values } = parseArgs({ args, strict: false, options: { database: setting, 'base-url': setting, host: setting, port: setting, mode: setting, 'admin-token': setting } });
const flag = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
const config = loadConfig({ database: flag('database'), baseUrl: flag('base-url'), host: flag('host'), port: flag('port'), mode: flag('mode'), adminToken: flag('admin-token') });

const server = spawn(process.execPath, ['--import', 'tsx', SERVER, 'serve', ...args], { stdio: 'inherit' });
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.kill(signal));

async function ready(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer(); // read to the end, so that its keep-alive connection is free for the next request
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`Firekeeper did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function sampleApps(): Promise<void> {
  await ready(`${config.baseUrl}/fhir/metadata`, 300_000); // the first start seeds the sample patients
  const api = { baseUrl: config.baseUrl, adminToken: config.adminToken };
  const port = Number(process.env.POC_PORT ?? config.port + 10);
  const appUrl = `http://${config.host}:${port}`;
  const poc = await registerPointOfCare(api, appUrl);
  const app = createServer(pointOfCareHandler({ publicUrl: appUrl, fhirServers: [`${config.baseUrl}/fhir`], ...poc }));
  await new Promise<void>((ok, fail) => app.once('error', fail).listen(port, config.host, ok));
  // Beside the embedded database's folder (or in .firekeeper/ for PostgreSQL): the backend service's private key.
  const keyDir = /^postgres(ql)?:\/\//.test(config.databaseUrl) || config.databaseUrl === 'memory://' ? resolve('.firekeeper') : join(config.databaseUrl, '..');
  const analytics = await registerPopulationAnalytics(api, join(keyDir, 'sample-apps', 'population-analytics.key.json'));
  process.stdout.write(`
Sample apps (sandbox):
  Point of care:        ${appUrl}/  (launch it from a patient's chart in the EHR, or standalone from the portal)
  Population analytics: node --import tsx apps/population-analytics/src/main.ts --fhir ${config.baseUrl}/fhir \\
                          --client-id ${analytics.clientId} --key ${analytics.keyFile} --html report.html
`);
}

if (config.mode === 'sandbox') {
  sampleApps().catch((err: Error) => process.stderr.write(`sample apps not started: ${err.message}\n`));
}
