// The `firekeeper` command as a user runs it: seed, import and serve, in child processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CLI_MAIN, cliDatabase } from '../../test-support/cli-database.ts';
import { clientCredentialsForm, newClientKey } from '../../test-support/backend-client.ts';
import { freePort } from '../../test-support/listening-app.ts';
import { decodeJwt } from 'jose';

const cli = cliDatabase('cli');
const { firekeeper } = cli;

describe('firekeeper CLI', () => {
  it('seed --patients 3 loads deterministic patients and reports what it loaded', () => {
    const res = firekeeper('seed', '--patients', '3', '--seed', 'cli-test');
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /seeded 3 patients \(\d+ resources, seed 'cli-test'\)/);
    assert.match(res.stderr, /seeding patients/);
  });

  it('import loads NDJSON and Bundles, prints a summary, and reports bad files with a non-zero exit', () => {
    writeFileSync(join(cli.dir, 'a.ndjson'), [
      JSON.stringify({ resourceType: 'Patient', id: 'nd-1', gender: 'female' }),
      JSON.stringify({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/nd-1' } }),
    ].join('\n'));
    writeFileSync(join(cli.dir, 'b.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'coll-1' } }] }));
    const ok = firekeeper('import', join(cli.dir, 'a.ndjson'), join(cli.dir, 'b.json'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /imported 3 resources from 2 bundles \(2 files\)/);
    assert.match(ok.stdout, /Observation\s+1/);

    writeFileSync(join(cli.dir, 'bad.json'), '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","birthDate":"soon"},"request":{"method":"POST","url":"Patient"}}]}');
    const bad = firekeeper('import', join(cli.dir, 'bad.json'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /1 files failed:[\s\S]*bad\.json/);
  });

  it('keys rotate adds new signing keys and keeps the previous ones published for the overlap', () => {
    const before = firekeeper('keys', 'list');
    assert.equal(before.status, 0, before.stderr);
    assert.equal(before.stdout.trim().split('\n').filter((l) => l.includes('active')).length, 2);
    const rotated = firekeeper('keys', 'rotate', '--overlap', '60');
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /previous keys stay published for 60 s/);
    assert.equal(rotated.stdout.split('\n').filter((l) => / retiring until /.test(l)).length, 2);
    assert.match(rotated.stdout, /warning: tokens live up to 3600 s/);
    assert.match(firekeeper('keys', 'rotate').stdout, /previous keys stay published for 3600 s/, 'by default, the longest token lifetime');
    assert.equal(firekeeper('keys', 'rotate', '--overlap', 'soon').status, 1);
  });

  it('clients add/list/show/rotate-secret/suspend manage apps; a secret is printed once; bad input is refused', () => {
    const added = firekeeper('clients', 'add', '--name', 'Chart review', '--type', 'confidential-symmetric',
      '--redirect-uri', 'https://cr.example/cb', '--scope', 'launch', '--scope', 'patient/*.rs');
    assert.equal(added.status, 0, added.stderr);
    const id = /client_id\s+(\S+)/.exec(added.stdout)![1]!;
    const secret = /client_secret: (\S+)/.exec(added.stdout)![1]!;
    assert.match(added.stdout, /scopes\s+launch patient\/\*\.rs/);
    const shown = firekeeper('clients', 'show', id);
    assert.equal(shown.stdout.includes(secret), false, 'the secret is never shown again');
    assert.match(firekeeper('clients', 'list').stdout, new RegExp(`${id}\\s+active`));
    const rotated = firekeeper('clients', 'rotate-secret', id);
    assert.notEqual(/client_secret: (\S+)/.exec(rotated.stdout)![1], secret);
    assert.match(firekeeper('clients', 'update', id, '--name', 'Chart review 2', '--redirect-uri', 'https://cr.example/cb2').stdout, /name\s+Chart review 2[\s\S]*redirect_uris\s+https:\/\/cr\.example\/cb2\n/);
    assert.match(firekeeper('clients', 'suspend', id).stdout, /status\s+suspended/);
    const bad = firekeeper('clients', 'add', '--name', 'Bad', '--type', 'public', '--redirect-uri', 'http://evil.example/cb');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid_redirect_uri: .*https/);
    assert.equal(firekeeper('clients', 'show', 'nope').status, 1);
  });

  it('token prints a sandbox access token and refuses production and bad scopes', () => {
    const printed = firekeeper('token', '--scope', 'patient/Observation.rs', '--lifetime', '60');
    assert.equal(printed.status, 0, printed.stderr);
    const claims = decodeJwt(printed.stdout.trim());
    assert.equal(claims.scope, 'patient/Observation.rs');
    assert.equal(claims.exp! - claims.iat!, 60);
    const production = firekeeper('token', '--mode', 'production', '--admin-token', 'a'.repeat(40));
    assert.equal(production.status, 1);
    assert.match(production.stderr, /sandbox mode only/);
    assert.equal(firekeeper('token', '--scope', 'patient/Foo.rs').status, 1);
  });

  it('serve listens, prints the URLs and answers FHIR requests made with a backend service token', async () => {
    const key = await newClientKey('ES384');
    const jwksFile = join(cli.dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
    const added = firekeeper('clients', 'add', '--name', 'Analytics', '--type', 'backend-service', '--jwks', jwksFile, '--scope', 'system/Patient.rs');
    assert.equal(added.status, 0, added.stderr);
    const clientId = /client_id\s+(\S+)/.exec(added.stdout)![1]!;
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--database', cli.database, '--port', String(port), '--mode', 'production', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FIREKEEPER_ADMIN_TOKEN: randomBytes(32).toString('hex') } });
    try {
      let out = '';
      const base = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /FHIR base:\s+(\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      assert.equal(base, `http://127.0.0.1:${port}/fhir`);
      const anonymous = await fetch(`${base}/Patient/nd-1`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate')!, /^Bearer /);
      const tokenUrl = `http://127.0.0.1:${port}/auth/token`;
      const form = await clientCredentialsForm({ clientId, tokenUrl, key, scope: 'system/Patient.rs' });
      const token = await (await fetch(tokenUrl, { method: 'POST', body: form })).json();
      assert.equal(token.token_type, 'Bearer');
      const res = await fetch(`${base}/Patient/nd-1`, { headers: { authorization: `Bearer ${token.access_token}` } });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).gender, 'female');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
