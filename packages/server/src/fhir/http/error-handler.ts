// The one place FHIR errors are rendered: every failure leaves as an OperationOutcome with the right status,
// and a 5xx never carries internal detail (the error is logged instead).
import type { FastifyError, FastifyInstance } from 'fastify';
import { FhirError, operationOutcome, type IssueType } from '../errors.ts';
import { FHIR_JSON } from './negotiation.ts';

const FRAMEWORK_ISSUES: Record<number, IssueType> = { 400: 'invalid', 404: 'not-found', 405: 'not-supported', 413: 'too-long', 415: 'not-supported' };

export function toFhirError(err: unknown): FhirError | undefined {
  if (err instanceof FhirError) return err;
  const e = err as Partial<FastifyError>;
  const status = e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'The request body is too large'
      : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `Unsupported request content type; send ${FHIR_JSON}`
      : e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The request body is empty'
      : (e.message ?? 'Bad request');
    return new FhirError(status, FRAMEWORK_ISSUES[status] ?? 'invalid', message);
  }
  return undefined;
}

export function installFhirErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const fhirError = toFhirError(err);
    if (!fhirError) request.log.error({ err }, 'unhandled error');
    const status = fhirError?.status ?? 500;
    const outcome = fhirError?.toOperationOutcome()
      ?? operationOutcome([{ severity: 'fatal', code: 'exception', diagnostics: 'Internal server error' }]);
    for (const [k, v] of Object.entries(fhirError?.headers ?? {})) reply.header(k, v);
    return reply.code(status).type(`${FHIR_JSON}; charset=utf-8`).send(JSON.stringify(outcome));
  });
  app.setNotFoundHandler((request, reply) => {
    const outcome = operationOutcome([{ severity: 'error', code: 'not-found', diagnostics: `No such endpoint: ${request.method} ${request.url.split('?')[0]}` }]);
    return reply.code(404).type(`${FHIR_JSON}; charset=utf-8`).send(JSON.stringify(outcome));
  });
}
