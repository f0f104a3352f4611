// Ceiling 2: the least a FHIR read can do. Bare node:http plus a `pg` Pool of 10 running the same
// single-row SELECT by (type, id) as the server's readCurrent (store/repository.ts), returning the stored
// JSON text. No framework, validation, routing table or content negotiation.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({ options: { port: { type: 'string' }, database: { type: 'string' } } });
const pool = new pg.Pool({ connectionString: values.database, max: 10 });

// The statement readCurrent runs (same columns, same text formatting of last_updated).
const SQL = `SELECT rid::text AS rid, type, id, version,
  to_char(last_updated AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "lastUpdated", deleted,
  CASE WHEN deleted THEN NULL ELSE resource::text END AS json
  FROM resources WHERE type = $1 AND id = $2`;
const ROUTE = /^\/fhir\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

const server = createServer((req, res) => {
  const m = ROUTE.exec(req.url ?? '');
  if (req.url === '/') return void res.end('ok');
  if (!m) return void res.writeHead(404).end();
  pool.query<{ version: number; json: string | null }>({ name: 'read_current', text: SQL, values: [m[1], m[2]] }).then(
    ({ rows }) => {
      const row = rows[0];
      if (!row?.json) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8', etag: `W/"${row.version}"`, 'content-length': Buffer.byteLength(row.json) });
      res.end(row.json);
    },
    () => void res.writeHead(500).end(),
  );
});
server.listen(Number(values.port ?? 8082), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
