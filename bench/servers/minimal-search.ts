// Ceiling 3: what S's search costs without the server around it. Bare node:http running the page statement that
// Firekeeper's search layer generates for S (captured once at start from search-service.ts, with the principal of a
// patient-launch token; per request only the patient's values change), through Firekeeper's database layer, and
// answering with a searchset Bundle built by search/bundle.ts. No framework, token, search parsing or SQL building
// per request. With --audit, each response waits, as Firekeeper's do, for its AuditEvent to be committed by
// Firekeeper's own AuditLog. S against these two shows what the server's layers cost, and the ceiling with --audit
// against hello-world what the durable audit alone leaves of the machine.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import type { Principal } from '../../packages/server/src/access/principal.ts';
import { newAuditEventId } from '../../packages/server/src/audit/audit-event-id.ts';
import { AuditLog } from '../../packages/server/src/audit/audit-log.ts';
import { searchsetBundle } from '../../packages/server/src/fhir/search/bundle.ts';
import { searchBundle } from '../../packages/server/src/fhir/search/search-service.ts';
import { openDatabase, type Queryable } from '../../packages/server/src/store/database.ts';
import { CEILING_TOKEN_ID, LAUNCH, launchActor } from '../auth.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, database: { type: 'string' }, audit: { type: 'boolean', default: false } } });
const port = Number(values.port ?? 8083);
const baseUrl = `http://127.0.0.1:${port}`;
const fhirBase = `${baseUrl}/fhir`;
const db = await openDatabase({ url: values.database! });
const audit = values.audit ? new AuditLog(db, { source: { baseUrl } }) : undefined;

/** The principal the server makes of the bench's patient-launch tokens (bench/auth.ts mintPatientTokens). */
const launchPrincipal = (patient: string): Principal => ({
  kind: 'user', userId: LAUNCH.subject, fhirUser: LAUNCH.fhirUser, clientId: LAUNCH.clientId, scopes: LAUNCH.scope.split(' '), launch: { patient }, tokenId: CEILING_TOKEN_ID,
});

const PLACEHOLDER = 'bench-placeholder-patient';
const QUERY = 'category=vital-signs&_sort=-date&_count=20';

/** The one statement searchBundle runs for S's query, with a placeholder where the patient's id goes. */
async function captureStatement(): Promise<{ text: string; params: readonly unknown[] }> {
  const seen: { text: string; params: readonly unknown[] }[] = [];
  const recorder: Queryable = { query: async (text, params = []) => (seen.push({ text, params }), []) };
  await searchBundle(recorder, launchPrincipal(PLACEHOLDER), { type: 'Observation', params: new URLSearchParams(`patient=${PLACEHOLDER}&${QUERY}`), strict: false }, fhirBase);
  if (seen.length !== 1) throw new Error(`expected S's search to run one statement, it ran ${seen.length}`);
  return seen[0]!;
}

const page = await captureStatement();
const forPatient = (id: string) => page.params.map((p) => (typeof p === 'string' ? p.replaceAll(PLACEHOLDER, id) : p));
const ROUTE = /^\/fhir\/Observation\?patient=([A-Za-z0-9\-.]{1,64})&/;

async function search(patient: string, url: string, address: string | undefined): Promise<string> {
  const rows = await db.query<{ type: string; id: string; json: string }>(page.text, forPatient(patient));
  const body = searchsetBundle({
    links: [{ relation: 'self', url: `${baseUrl}${url}` }],
    entries: rows.slice(0, 20).map((r) => ({ type: r.type, id: r.id, json: r.json, mode: 'match' as const })),
    fhirBase,
    now: new Date(),
  });
  // The record fhir-audit.ts makes for S: the patient from the query and from the launch context.
  await audit?.record({
    kind: 'rest', id: newAuditEventId(), recorded: new Date().toISOString(), interaction: 'search-type',
    actor: launchActor(address),
    outcome: { status: 200 }, patients: [`Patient/${patient}`, `Patient/${patient}`], query: url.slice(url.indexOf('?') + 1),
  });
  return body;
}

const server = createServer((req, res) => {
  if (req.url === '/') return void res.end('ok');
  const m = ROUTE.exec(req.url ?? '');
  if (!m) return void res.writeHead(404).end();
  search(m[1]!, req.url!, req.socket.remoteAddress).then(
    (body) => void res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body),
    () => void res.writeHead(500).end(),
  );
});
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => server.close(() => void (audit?.close() ?? Promise.resolve()).then(() => db.close()).then(() => process.exit(0))));
