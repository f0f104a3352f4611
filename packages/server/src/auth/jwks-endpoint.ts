// GET {base}/.well-known/jwks.json: the public signing keys (RFC 7517 §5), read from the database on each request
// so a rotation on any instance is published by all of them at once.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../store/database.ts';
import { publicJwks } from './signing-keys.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

export async function jwksEndpoint(app: FastifyInstance, opts: { db: Database }): Promise<void> {
  app.get(JWKS_PATH, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=60');
    reply.header('Access-Control-Allow-Origin', '*');
    return reply.type('application/jwk-set+json').send(JSON.stringify(await publicJwks(opts.db)));
  });
}
