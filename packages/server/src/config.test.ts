// Configuration is validated once at start-up and fails naming the setting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig, SANDBOX_ADMIN_TOKEN } from './config.ts';

describe('loadConfig', () => {
  it('defaults to plain HTTP on loopback with a base URL derived from host and port', () => {
    const c = loadConfig({}, {});
    assert.equal(c.baseUrl, 'http://127.0.0.1:8080');
    assert.equal(c.mode, 'sandbox');
    assert.equal(c.tls, undefined);
    assert.equal(c.trustProxy, false);
  });

  it('normalises the public base URL: no trailing slash, no query', () => {
    assert.equal(loadConfig({ baseUrl: 'https://ehr.example.org/smart/' }, {}).baseUrl, 'https://ehr.example.org/smart');
    assert.throws(() => loadConfig({ baseUrl: 'https://x.example/?a=1' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'baseUrl');
    assert.throws(() => loadConfig({ baseUrl: 'ftp://x.example' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'baseUrl');
    assert.equal(loadConfig({}, { FIREKEEPER_BASE_URL: 'https://env.example/' }).baseUrl, 'https://env.example');
  });

  it('refuses plain HTTP on a non-loopback address unless --insecure-http is given', () => {
    assert.throws(() => loadConfig({ host: '0.0.0.0' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'host' && /loopback/.test(e.message));
    assert.equal(loadConfig({ host: '0.0.0.0', insecureHttp: true }, {}).insecureHttp, true);
    assert.equal(loadConfig({ host: '0.0.0.0' }, { FIREKEEPER_INSECURE_HTTP: '1' }).insecureHttp, true);
    assert.equal(loadConfig({ host: '::1' }, {}).insecureHttp, false);
    assert.equal(loadConfig({ host: 'localhost' }, {}).baseUrl, 'http://localhost:8080');
  });

  it('TLS needs both files and makes the default base URL https', () => {
    const c = loadConfig({ host: '0.0.0.0', tlsCert: '/etc/fk/cert.pem', tlsKey: '/etc/fk/key.pem', port: 8443 }, {});
    assert.deepEqual(c.tls, { certFile: '/etc/fk/cert.pem', keyFile: '/etc/fk/key.pem' });
    assert.equal(c.baseUrl, 'https://0.0.0.0:8443');
    assert.throws(() => loadConfig({ tlsCert: '/etc/fk/cert.pem' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'tlsKey');
  });

  it('parses the trusted proxies and rejects bad numbers and modes', () => {
    assert.deepEqual(loadConfig({ trustProxy: '10.0.0.1, 192.168.0.0/16' }, {}).trustProxy, ['10.0.0.1', '192.168.0.0/16']);
    assert.throws(() => loadConfig({ port: '80a' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'port');
    assert.throws(() => loadConfig({ mode: 'demo' }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'mode');
    assert.throws(() => loadConfig({ bodyLimit: 10 }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'bodyLimit');
  });

  it('sizes the PostgreSQL pool from the flag, then FIREKEEPER_DB_POOL_SIZE, then twice the cores (at least 4)', () => {
    assert.equal(loadConfig({}, {}).databasePoolSize, Math.max(4, 2 * availableParallelism()));
    assert.equal(loadConfig({}, { FIREKEEPER_DB_POOL_SIZE: '6' }).databasePoolSize, 6);
    assert.equal(loadConfig({ dbPoolSize: '3' }, { FIREKEEPER_DB_POOL_SIZE: '6' }).databasePoolSize, 3);
    for (const bad of ['0', '-1', '2.5', 'ten', '']) {
      assert.throws(() => loadConfig({ dbPoolSize: bad }, {}), (e: unknown) => e instanceof ConfigError && e.path === 'dbPoolSize', bad);
    }
  });

  describe('admin token', () => {
    const strong = 'k3Jq9vX2mN8pL5sR7tW1yZ4aB6cD0eFgH';
    const rejects = (flags: Parameters<typeof loadConfig>[0], env: NodeJS.ProcessEnv, message: RegExp) =>
      assert.throws(() => loadConfig(flags, env), (e: unknown) => e instanceof ConfigError && e.path === 'adminToken' && message.test(e.message));

    it('sandbox mode defaults to the documented development token', () => {
      assert.equal(SANDBOX_ADMIN_TOKEN, 'firekeeper-sandbox-admin');
      assert.equal(loadConfig({}, {}).adminToken, SANDBOX_ADMIN_TOKEN);
      assert.equal(loadConfig({}, { FIREKEEPER_ADMIN_TOKEN: '' }).adminToken, SANDBOX_ADMIN_TOKEN);
      assert.equal(loadConfig({}, { FIREKEEPER_ADMIN_TOKEN: 'short-is-fine-here' }).adminToken, 'short-is-fine-here');
    });

    it('the flag wins over FIREKEEPER_ADMIN_TOKEN', () => {
      assert.equal(loadConfig({ mode: 'production', adminToken: strong }, { FIREKEEPER_ADMIN_TOKEN: 'from-env' }).adminToken, strong);
      assert.equal(loadConfig({}, { FIREKEEPER_MODE: 'production', FIREKEEPER_ADMIN_TOKEN: strong }).adminToken, strong);
    });

    it('production mode refuses to start without a token, with the development token, or with a short one', () => {
      rejects({ mode: 'production' }, {}, /production mode needs an admin API token of at least 32 characters/);
      rejects({ mode: 'production' }, { FIREKEEPER_ADMIN_TOKEN: '' }, /needs an admin API token/);
      rejects({ mode: 'production', adminToken: SANDBOX_ADMIN_TOKEN }, {}, /development admin token is not allowed/);
      rejects({ mode: 'production' }, { FIREKEEPER_ADMIN_TOKEN: strong.slice(0, 31) }, /at least 32 characters in production mode/);
      assert.equal(loadConfig({ mode: 'production' }, { FIREKEEPER_ADMIN_TOKEN: strong.slice(0, 32) }).adminToken, strong.slice(0, 32));
    });

    it('refuses a token that cannot be sent as a Bearer token (RFC 6750 §2.1), and never echoes it', () => {
      rejects({ adminToken: 'has a space' }, {}, /visible ASCII/);
      rejects({ mode: 'production', adminToken: `${strong}\n` }, {}, /visible ASCII/);
      assert.throws(() => loadConfig({ mode: 'production', adminToken: 'secret-but-short' }, {}), (e: unknown) => e instanceof Error && !e.message.includes('secret-but-short'));
    });
  });
});
