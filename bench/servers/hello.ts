// Ceiling 1: a bare node:http server answering every request with a small JSON body.
// What Node's HTTP stack alone can do on this machine, with the same load generator.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const body = JSON.stringify({ hello: 'world' });

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(values.port ?? 8081), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
