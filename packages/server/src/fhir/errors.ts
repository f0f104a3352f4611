// FHIR errors: one typed value per failure, rendered as an OperationOutcome in one place (see http/error-handler.ts).
// R4 §3.1.0.4 (http.html#ops): servers return an OperationOutcome with an appropriate HTTP status.

export type IssueType =
  | 'invalid' | 'structure' | 'required' | 'value' | 'invariant' | 'processing' | 'not-supported'
  | 'not-found' | 'deleted' | 'conflict' | 'duplicate' | 'multiple-matches' | 'too-long' | 'exception'
  | 'security' | 'login' | 'forbidden' | 'too-costly' | 'informational';

export interface Issue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueType;
  diagnostics: string;
  /** FHIRPath of the element concerned, e.g. `Patient.birthDate`. */
  expression?: string[];
}

export class FhirError extends Error {
  readonly status: number;
  readonly issues: Issue[];
  readonly headers: Record<string, string>;

  constructor(status: number, code: IssueType, diagnostics: string, opts: { expression?: string[]; issues?: Issue[]; headers?: Record<string, string> } = {}) {
    super(diagnostics);
    this.name = 'FhirError';
    this.status = status;
    this.issues = opts.issues ?? [{ severity: 'error', code, diagnostics, ...(opts.expression ? { expression: opts.expression } : {}) }];
    this.headers = opts.headers ?? {};
  }

  toOperationOutcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Issue[];
}

export function operationOutcome(issues: Issue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export const badRequest = (msg: string, expression?: string[]) => new FhirError(400, 'invalid', msg, { expression });
export const notFound = (msg: string) => new FhirError(404, 'not-found', msg);
export const gone = (msg: string) => new FhirError(410, 'deleted', msg);
export const conflict = (msg: string) => new FhirError(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => new FhirError(412, 'conflict', msg);
export const notSupported = (msg: string, status = 400) => new FhirError(status, 'not-supported', msg);
export const unprocessable = (issues: Issue[]) => new FhirError(422, issues[0]?.code ?? 'invalid', issues[0]?.diagnostics ?? 'invalid resource', { issues });
