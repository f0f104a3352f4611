// Ceiling 2: the least a FHIR read can do. Bare node:http plus a `pg` Pool of 10 running the same
// single-row SELECT by (type, id) as the server's readCurrent (store/repository.ts), returning the stored
// JSON text. No framework, validation, routing table or content negotiation. With --audit, each response waits, as
// Firekeeper's do, for its AuditEvent to be committed by Firekeeper's own AuditLog: R against it shows what the
// server's layers cost once the durable audit is paid for, as S against minimal-search+audit does.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newAuditEventId } from '../../packages/server/src/audit/audit-event-id.ts';
import { AuditLog } from '../../packages/server/src/audit/audit-log.ts';
import { openDatabase } from '../../packages/server/src/store/database.ts';
import { launchActor } from '../auth.ts';

const { values } = parseArgs({ options: { port: { type: 'string' }, database: { type: 'string' }, audit: { type: 'boolean', default: false } } });
const port = Number(values.port ?? 8082);
const pool = new pg.Pool({ connectionString: values.database, max: 10 });
const auditDb = values.audit ? await openDatabase({ url: values.database! }) : undefined;
const audit = auditDb && new AuditLog(auditDb, { source: { baseUrl: `http://127.0.0.1:${port}` } });

// The statement readCurrent runs (same columns, same text formatting of last_updated).
const SQL = `SELECT rid::text AS rid, type, id, version,
  to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastUpdated", deleted,
  CASE WHEN deleted THEN NULL ELSE resource::text END AS json
  FROM resources WHERE type = $1 AND id = $2`;
const ROUTE = /^\/fhir\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** The record fhir-audit.ts makes for R: a read of the launch context's own Patient, by a patient-launch token. */
const recordRead = (target: string, address: string | undefined) => audit?.record({
  kind: 'rest', id: newAuditEventId(), recorded: new Date().toISOString(), interaction: 'read',
  actor: launchActor(address),
  outcome: { status: 200 }, patients: [target], target,
});

const server = createServer((req, res) => {
  const m = ROUTE.exec(req.url ?? '');
  if (req.url === '/') return void res.end('ok');
  if (!m) return void res.writeHead(404).end();
  pool.query<{ version: number; json: string | null }>({ name: 'read_current', text: SQL, values: [m[1], m[2]] })
    .then(async ({ rows }) => {
      const row = rows[0];
      if (!row?.json) return void res.writeHead(404).end();
      await recordRead(`${m[1]}/${m[2]}`, req.socket.remoteAddress);
      res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8', etag: `W/"${row.version}"`, 'content-length': Buffer.byteLength(row.json) });
      res.end(row.json);
    })
    .catch(() => void res.writeHead(500).end());
});
server.listen(port, '127.0.0.1');
const closeAudit = async () => {
  await audit?.close();
  await auditDb?.close();
};
process.once('SIGTERM', () => server.close(() => void closeAudit().then(() => pool.end()).then(() => process.exit(0))));
