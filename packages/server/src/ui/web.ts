// What every server-rendered page needs, registered once at the root: cookies (sessions), CSRF protection
// (double-submit secret in an HttpOnly cookie, token in each form) and the stylesheet.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import { STYLESHEET_PATH } from './layout.ts';

const STYLESHEET = readFileSync(new URL('./style.css', import.meta.url), 'utf8');

export async function registerWeb(app: FastifyInstance, opts: { secure: boolean }): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    // `__Host-` cookies cannot be set by a sibling subdomain, so the secret cannot be planted (over HTTPS).
    cookieKey: opts.secure ? '__Host-fk_csrf' : 'fk_csrf',
    cookieOpts: { path: '/', sameSite: 'lax', httpOnly: true, secure: opts.secure },
    getToken: (request) => (request.body instanceof URLSearchParams ? request.body.get('_csrf') ?? undefined : undefined),
  });
  app.get(STYLESHEET_PATH, (_request, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=300').send(STYLESHEET));
}
