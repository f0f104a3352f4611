// The shell of every server-rendered page, and the headers that go with it: a strict Content-Security-Policy
// (no scripts at all, styles only from our stylesheet), `frame-ancestors 'self'` so the EHR may frame the pages
// and nobody else can, and no caching of pages that carry CSRF tokens or personal data.
import type { FastifyReply } from 'fastify';
import { html, type Html } from './html.ts';

export const STYLESHEET_PATH = '/ui/style.css';

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Origins a form on the page may end up at (a form post answered by a redirect to an app counts, in Chrome). */
  formTargets?: string[];
}

export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  return [
    "default-src 'none'", `style-src 'self'`, "img-src 'self' data:", `form-action 'self'${formTargets.map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'self'", "base-uri 'none'",
  ].join('; ');
}

export function sendPage(reply: FastifyReply, o: PageOptions): FastifyReply {
  return reply.code(o.status ?? 200)
    .header('Content-Security-Policy', contentSecurityPolicy(o.formTargets))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page(o.title, o.body).value);
}

function page(title: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Firekeeper</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="brand">Firekeeper</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** A hidden CSRF field for a form (the token comes from `reply.generateCsrf()`). */
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;
