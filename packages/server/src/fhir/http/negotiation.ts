// Content negotiation (R4 http.html#mime-type): JSON only. `_format` overrides Accept.
import { FhirError } from '../errors.ts';

export const FHIR_JSON = 'application/fhir+json';
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir', 'text/json']);
const ACCEPTABLE_RANGES = new Set(['*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/json+fhir', 'text/json']);

/** Throws 406 unless the client accepts a JSON representation. */
export function checkAcceptable(accept: string | undefined, format: string | undefined): void {
  if (format !== undefined) {
    if (!JSON_FORMATS.has(format.trim().toLowerCase())) {
      throw new FhirError(406, 'not-supported', `_format '${format}' is not supported; this server speaks ${FHIR_JSON}`);
    }
    return;
  }
  if (!accept || accept.trim() === '') return;
  const acceptable = accept.split(',').some((part) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return ACCEPTABLE_RANGES.has(range ?? '') && (q === undefined || Number(q.slice(2)) > 0);
  });
  if (!acceptable) throw new FhirError(406, 'not-supported', `None of the accepted types (${accept}) is available; this server speaks ${FHIR_JSON}`);
}

/** `Prefer: return=…` (R4 http.html#ops). */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export function parsePrefer(header: string | undefined): { return: ReturnPreference; strict: boolean } {
  const prefs = (header ?? '').split(/[,;]/).map((s) => s.trim());
  const ret = prefs.find((p) => p.startsWith('return='))?.slice('return='.length);
  return {
    return: ret === 'minimal' || ret === 'OperationOutcome' ? ret : 'representation',
    strict: prefs.includes('handling=strict'),
  };
}

/** `If-Match: W/"3"` → '3'. Throws 400 on a malformed header. */
export function parseIfMatch(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"([^"]+)"\s*$/.exec(header) ?? /^\s*([0-9]+)\s*$/.exec(header);
  if (!m) throw new FhirError(400, 'invalid', `Malformed If-Match header: expected W/"<versionId>"`);
  return m[1];
}
