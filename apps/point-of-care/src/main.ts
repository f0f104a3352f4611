#!/usr/bin/env -S node --import tsx
// point-of-care: starts the sample SMART app's web server.
//
//   node --import tsx apps/point-of-care/src/main.ts --fhir http://127.0.0.1:8080/fhir --client-id <id> \
//     [--client-secret <secret> | POC_CLIENT_SECRET] [--port 8090] [--public-url http://127.0.0.1:8090]
//
// Register it with launch URL `{public-url}/launch` and redirect URI `{public-url}/callback`.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { pointOfCareHandler } from './app-server.ts';

const { values } = parseArgs({
  options: {
    fhir: { type: 'string', multiple: true }, 'client-id': { type: 'string' }, 'client-secret': { type: 'string' },
    port: { type: 'string', default: '8090' }, host: { type: 'string', default: '127.0.0.1' }, 'public-url': { type: 'string' },
  },
});
if (!values.fhir?.length || !values['client-id']) {
  process.stderr.write('usage: point-of-care --fhir <FHIR base URL> [--fhir …] --client-id <id> [--client-secret <secret>] [--port 8090] [--host 127.0.0.1] [--public-url <URL>]\n');
  process.exit(2);
}
const port = Number(values.port);
const publicUrl = values['public-url'] ?? `http://${values.host}:${port}`;
createServer(pointOfCareHandler({
  publicUrl, fhirServers: values.fhir, clientId: values['client-id'], clientSecret: values['client-secret'] ?? process.env.POC_CLIENT_SECRET,
})).listen(port, values.host, () => {
  process.stdout.write(`point-of-care app: ${publicUrl}/ (launch URL ${publicUrl}/launch, redirect URI ${publicUrl}/callback)\n`);
});
