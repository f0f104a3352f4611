// The client's errors, one class per thing that can go wrong, each carrying what the server said.

/** The server publishes no usable SMART configuration (SMART App Launch 2.2 §Discovery). */
export class DiscoveryError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/** The token endpoint refused a request: the RFC 6749 §5.2 error code and description, and the HTTP status. */
export class TokenError extends Error {
  constructor(readonly error: string, readonly description: string | undefined, readonly status: number) {
    super(`token request refused: ${error}${description ? `: ${description}` : ''} (HTTP ${status})`);
    this.name = 'TokenError';
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: string; code: string; diagnostics?: string; expression?: string[] }[];
}

/** A FHIR request failed: the HTTP status and, when the server sent one, its OperationOutcome. */
export class FhirError extends Error {
  constructor(readonly status: number, readonly outcome: OperationOutcome | undefined, what: string) {
    super(`${what}: HTTP ${status}${outcome?.issue?.[0]?.diagnostics ? `: ${outcome.issue[0].diagnostics}` : ''}`);
    this.name = 'FhirError';
  }
}
