// One validated configuration object, built once at start-up from flags and environment
// and passed down explicitly (docs/architecture: "Configuration").
import { resolve } from 'node:path';
import { DEFAULT_POOL_SIZE } from './store/database.ts';

export interface Config {
  /** Public base URL, without a trailing slash; the FHIR base is `${baseUrl}/fhir`. */
  baseUrl: string;
  host: string;
  port: number;
  /** `postgres://…` for a PostgreSQL server, otherwise a folder for the embedded PGlite database. */
  databaseUrl: string;
  /** Connections to a PostgreSQL server (unused by the embedded database). */
  databasePoolSize: number;
  mode: 'sandbox' | 'production';
  /** Largest accepted request body, in bytes (larger bodies get 413). */
  bodyLimit: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** PEM certificate and key: the server then speaks TLS 1.2+ only. */
  tls?: { certFile: string; keyFile: string };
  /** Plain HTTP on a non-loopback address, explicitly allowed (and announced at start-up). */
  insecureHttp: boolean;
  /** Fastify `trustProxy`: which proxies' X-Forwarded-* headers to believe (addresses/CIDRs), or none. */
  trustProxy: string[] | false;
  /** Bearer credential for the admin API (`{base}/admin/api`); sandbox mode defaults to SANDBOX_ADMIN_TOKEN. */
  adminToken: string;
}

/** The documented development admin token: sandbox mode only; production mode refuses to start with it. */
export const SANDBOX_ADMIN_TOKEN = 'firekeeper-sandbox-admin';
/** The sample accounts: published development passwords, shown at start-up and on the sandbox home page. */
export const SANDBOX_CREDENTIALS = Object.freeze([
  { username: 'clinician', password: 'sandbox-clinician', role: 'clinician' },
  { username: 'patient', password: 'sandbox-patient', role: 'patient' },
  { username: 'admin', password: 'sandbox-admin', role: 'admin' },
] as const);

/** Shortest admin token accepted in production mode. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

export interface ConfigInput {
  baseUrl?: string;
  host?: string;
  port?: string | number;
  database?: string;
  dbPoolSize?: string | number;
  mode?: string;
  bodyLimit?: string | number;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  trustProxy?: string;
  adminToken?: string;
}

export class ConfigError extends Error {
  constructor(readonly path: string, message: string) {
    super(`invalid configuration '${path}': ${message}`);
    this.name = 'ConfigError';
  }
}

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(flags: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const host = flags.host ?? env.FIREKEEPER_HOST ?? '127.0.0.1';
  const port = toInt('port', flags.port ?? env.PORT ?? 8080, 0, 65535);
  const mode = flags.mode ?? env.FIREKEEPER_MODE ?? 'sandbox';
  if (mode !== 'sandbox' && mode !== 'production') throw new ConfigError('mode', `expected sandbox or production, got '${mode}'`);
  const logLevel = flags.logLevel ?? env.FIREKEEPER_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(logLevel)) throw new ConfigError('logLevel', `unknown level '${logLevel}'`);
  const tls = tlsFiles(flags.tlsCert ?? env.FIREKEEPER_TLS_CERT, flags.tlsKey ?? env.FIREKEEPER_TLS_KEY);
  const insecureHttp = flags.insecureHttp ?? ['1', 'true'].includes(env.FIREKEEPER_INSECURE_HTTP ?? '');
  if (!tls && !insecureHttp && !isLoopback(host)) {
    throw new ConfigError('host', `plain HTTP is served only on loopback; give --tls-cert and --tls-key, or --insecure-http to serve ${host} without TLS`);
  }
  const scheme = tls ? 'https' : 'http';
  const baseUrl = parseBaseUrl(flags.baseUrl ?? env.FIREKEEPER_BASE_URL ?? `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const database = flags.database ?? env.DATABASE_URL ?? '.firekeeper/data';
  const proxies = (flags.trustProxy ?? env.FIREKEEPER_TRUST_PROXY ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return {
    baseUrl,
    host,
    port,
    databaseUrl: /^postgres(ql)?:\/\//.test(database) || database === 'memory://' ? database : resolve(database),
    databasePoolSize: toInt('dbPoolSize', flags.dbPoolSize ?? env.FIREKEEPER_DB_POOL_SIZE ?? DEFAULT_POOL_SIZE, 1, 1000),
    mode,
    bodyLimit: toInt('bodyLimit', flags.bodyLimit ?? env.FIREKEEPER_BODY_LIMIT ?? 16 * 1024 * 1024, 1024, 1024 ** 3),
    logLevel: logLevel as Config['logLevel'],
    tls,
    insecureHttp,
    trustProxy: proxies.length ? proxies : false,
    adminToken: adminToken(mode, flags.adminToken ?? env.FIREKEEPER_ADMIN_TOKEN),
  };
}

// Production refuses development secrets (docs/architecture: "Configuration").
function adminToken(mode: Config['mode'], value: string | undefined): string {
  if (!value) {
    if (mode === 'sandbox') return SANDBOX_ADMIN_TOKEN;
    throw new ConfigError('adminToken', `production mode needs an admin API token of at least ${MIN_ADMIN_TOKEN_LENGTH} characters (--admin-token or FIREKEEPER_ADMIN_TOKEN)`);
  }
  // RFC 6750 §2.1: it is sent as a Bearer token, so visible ASCII only.
  if (!/^[\x21-\x7e]+$/.test(value)) throw new ConfigError('adminToken', 'must be visible ASCII characters only (no spaces)');
  if (mode === 'production' && value === SANDBOX_ADMIN_TOKEN) throw new ConfigError('adminToken', 'the development admin token is not allowed in production mode');
  if (mode === 'production' && value.length < MIN_ADMIN_TOKEN_LENGTH) throw new ConfigError('adminToken', `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters in production mode`);
  return value;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function tlsFiles(certFile: string | undefined, keyFile: string | undefined): Config['tls'] {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError(certFile ? 'tlsKey' : 'tlsCert', 'TLS needs both a certificate and a key');
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('baseUrl', `not a URL: '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('baseUrl', 'must be http or https');
  if (url.search || url.hash) throw new ConfigError('baseUrl', 'must not have a query or fragment');
  return url.toString().replace(/\/+$/, '');
}

function toInt(path: string, value: string | number, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(path, `expected an integer from ${min} to ${max}, got '${value}'`);
  return n;
}
