// An in-process Firekeeper app on this test file's database, driven with `inject` (no socket).
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import type { Database } from '../store/database.ts';
import { onTestFileEnd, testDatabase } from './database.ts';

export const TEST_BASE_URL = 'http://firekeeper.test';
export const FHIR_BASE = `${TEST_BASE_URL}/fhir`;

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  /** Sends a request; JSON bodies are serialised with the FHIR content type. */
  request(method: InjectOptions['method'], url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
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
  return {
    app,
    db: database,
    async request(method, url, body, headers = {}) {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const res = await app.inject({
        method,
        url,
        payload,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
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
