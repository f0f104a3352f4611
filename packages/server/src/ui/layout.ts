// The shell of every server-rendered page, and the headers that go with it: a strict Content-Security-Policy
// (no scripts at all, styles only from our stylesheet), `frame-ancestors 'self'` so the EHR may frame the pages
// and nobody else can, and no caching of pages that carry CSRF tokens or personal data.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html } from './html.ts';

export const STYLESHEET_PATH = '/ui/style.css';

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Origins a form on the page may end up at (a form post answered by a redirect to an app counts, in Chrome). */
  formTargets?: string[];
  /** A wide page (the EHR's chart) instead of a narrow form column. */
  wide?: boolean;
  /** Origins the page may frame (an app embedded in the EHR's chart; its redirects to this server's own pages, such
   * as the authorization pages, are allowed with them); none by default. */
  frameSources?: string[];
}

export function contentSecurityPolicy(formTargets: readonly string[] = [], frameSources: readonly string[] = []): string {
  return [
    "default-src 'none'", `style-src 'self'`, "img-src 'self' data:", `form-action 'self'${formTargets.map((o) => ` ${o}`).join('')}`,
    ...(frameSources.length > 0 ? [`frame-src 'self' ${frameSources.join(' ')}`] : []),
    "frame-ancestors 'self'", "base-uri 'none'",
  ].join('; ');
}

export function sendPage(reply: FastifyReply, o: PageOptions): FastifyReply {
  return reply.code(o.status ?? 200)
    .header('Content-Security-Policy', contentSecurityPolicy(o.formTargets, o.frameSources))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page(o.title, o.body, o.wide ?? false).value);
}

function page(title: string, body: Html, wide: boolean): Html {
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
<main${wide ? html` class="wide"` : ''}>
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}

/** A hidden CSRF field for a form (the token comes from `reply.generateCsrf()`). */
export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** A message in the page's alert style. */
export const alertMessage = (message: string) => html`<p class="error" role="alert">${message}</p>`;

/**
 * The error handler of a plugin of pages: a form without a valid CSRF token gets "try again" (403); anything else is
 * logged and answered with a page that reveals nothing (500).
 */
export function installPageErrorHandler(app: FastifyInstance, name: string): void {
  app.setErrorHandler((err, request, reply) => {
    const code = (err as { code?: string }).code;
    if (code === 'FST_CSRF_INVALID_TOKEN' || code === 'FST_CSRF_MISSING_SECRET') {
      return sendPage(reply, { title: 'Please try again', status: 403, body: alertMessage('This form has expired or was not sent from this site. Reload the page and try again.') });
    }
    request.log.error({ err }, `${name} error`);
    return sendPage(reply, { title: 'Something went wrong', status: 500, body: alertMessage('The server could not complete this request.') });
  });
}
