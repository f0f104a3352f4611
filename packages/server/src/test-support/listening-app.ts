// A Firekeeper app on a real loopback socket, for the end-to-end tests that need real HTTP. Its base URL is the
// address it really listens on (the issuer and every endpoint derive from it), so a free port is picked first; should
// another process take it before the listen (EADDRINUSE), another port is tried.
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { issueAccessToken } from '../auth/access-token.ts';
import { KeyRing } from '../auth/key-ring.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../store/database.ts';
import { onTestFileEnd, testDatabase } from './database.ts';

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ListeningApp {
  app: FastifyInstance;
  db: Database;
  /** e.g. http://127.0.0.1:41234: the issuer. */
  base: string;
  /** `${base}/fhir`: the `aud` of tokens and the `iss` of a SMART launch. */
  fhirBase: string;
  /** A `system/*.*` access token for seeding data over HTTP. */
  seedToken: string;
}

/** Firekeeper on this test file's database, listening on loopback; closed when the file's tests end. */
export async function listeningApp(): Promise<ListeningApp> {
  const db = await testDatabase();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = await buildApp({ config: loadConfig({ baseUrl: base, logLevel: 'silent' }, {}), db });
    try {
      await app.listen({ host: '127.0.0.1', port });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue;
      throw err;
    }
    onTestFileEnd(() => app.close());
    const fhirBase = `${base}/fhir`;
    const { token } = await issueAccessToken(new KeyRing(db), {
      issuer: base, audience: fhirBase, clientId: 'e2e-seed', subject: 'e2e-seed', scope: 'system/*.*', lifetimeSeconds: 3600,
    });
    return { app, db, base, fhirBase, seedToken: token };
  }
}
