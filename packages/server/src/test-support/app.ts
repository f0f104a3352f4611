// An in-process Firekeeper app on this test file's database, driven with `inject` (no socket).
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../store/database.ts';
import { onTestFileEnd, testDatabase } from './database.ts';
import { issueAccessToken, type TokenContext } from '../auth/access-token.ts';
import { KeyRing } from '../auth/key-ring.ts';

export const TEST_BASE_URL = 'http://firekeeper.test';
export const FHIR_BASE = `${TEST_BASE_URL}/fhir`;

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  /**
   * Sends a request; JSON bodies are serialised with the FHIR content type. Requests carry a `system/*.*` access
   * token unless `headers.authorization` is given (`undefined` sends none).
   */
  request(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string | undefined>): Promise<TestResponse>;
  /** Mints an access token as the token endpoint would (default: a backend client with `system/*.*`). */
  token(claims?: Partial<TestTokenClaims>): Promise<string>;
}

export interface TestTokenClaims {
  clientId: string;
  subject: string;
  scope: string;
  lifetimeSeconds: number;
  context: TokenContext;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
}

export async function testApp(db?: Database): Promise<TestApp> {
  const database = db ?? (await testDatabase());
  const app = await buildApp({ config: loadConfig({ baseUrl: TEST_BASE_URL, logLevel: 'silent' }, {}), db: database });
  onTestFileEnd(() => app.close());
  const keys = new KeyRing(database);
  const token = async (claims: Partial<TestTokenClaims> = {}) => (await issueAccessToken(keys, {
    issuer: TEST_BASE_URL, audience: FHIR_BASE, clientId: 'firekeeper-test', subject: claims.clientId ?? 'firekeeper-test',
    scope: 'system/*.*', lifetimeSeconds: 3600, ...claims,
  })).token;
  let defaultToken: Promise<string> | undefined;
  return {
    app,
    db: database,
    token,
    async request(method, url, body, headers = {}) {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const authorization = 'authorization' in headers ? headers.authorization : `Bearer ${await (defaultToken ??= token())}`;
      const sent = Object.fromEntries(Object.entries({ ...headers, authorization }).filter((e): e is [string, string] => e[1] !== undefined));
      const res = await app.inject({
        method,
        url,
        payload,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...sent },
      });
      let json: unknown;
      try {
        json = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, headers: res.headers, text: res.body, json };
    },
  };
}
