// Worker thread (started by bench/auth.ts): signs `count` client assertions, each with a new jti, and posts back
// the form-encoded client_credentials token request bodies.
import { parentPort, workerData } from 'node:worker_threads';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { clientAssertion, JWT_BEARER, type AssertionAlg } from '../packages/server/src/test-support/backend-client.ts';

export interface SignJob {
  privateJwk: JWK;
  alg: AssertionAlg;
  kid: string;
  clientId: string;
  tokenUrl: string;
  scope: string;
  /** Expiry of every assertion (seconds since the epoch). */
  exp: number;
  count: number;
}

if (parentPort) {
  const job = workerData as SignJob;
  const privateKey = (await importJWK(job.privateJwk, job.alg)) as CryptoKey;
  const key = { alg: job.alg, kid: job.kid, privateKey, publicJwk: {} };
  const bodies: string[] = new Array(job.count);
  for (let i = 0; i < job.count; i++) {
    const assertion = await clientAssertion({ clientId: job.clientId, tokenUrl: job.tokenUrl, key, exp: job.exp });
    bodies[i] = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, scope: job.scope }).toString();
  }
  parentPort.postMessage(bodies);
}
