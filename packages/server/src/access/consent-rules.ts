// Patient privacy preferences: an active R4 `Consent` with scope `patient-privacy` whose `deny` provisions say which
// apps may not see which of the patient's data. They are turned into deny rules when the Consent is written (in the
// same statement as its index rows), and the access filter refuses every row a rule matches, on every app request.
// @see http://hl7.org/fhir/R4/consent.html (provision: type, period, actor, class, securityLabel)
//
// What a rule can say: the patient; the app (an actor whose reference carries the client's identifier in
// CLIENT_ID_SYSTEM), or every app when the provision names no actor; a resource type (a `class` Coding in
// http://hl7.org/fhir/resource-types), or every type; a security label (`securityLabel`), or any data; and a period.
// Within a provision the lists multiply out (each actor × each class × each label), as in R4's reading of them.
// A provision whose terms Firekeeper cannot enforce is refused when the Consent is written (422), never ignored.
// Nested `permit` exceptions are not supported: they are refused too, rather than read as denying more or less.
import { unprocessable } from '../fhir/errors.ts';
import { isResourceType } from '../fhir/search-parameters.ts';
import { dateRange } from '../fhir/index-extract.ts';

/** The identifier system of an app (its OAuth `client_id`) in `Consent.provision.actor.reference.identifier`. */
export const CLIENT_ID_SYSTEM = 'urn:firekeeper:client-id';
const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
const RESOURCE_TYPES_SYSTEM = 'http://hl7.org/fhir/resource-types';

export interface DenyRule {
  /** 'Patient/123' */
  patient: string;
  clientId: string | null;
  resourceType: string | null;
  labelSystem: string | null;
  labelCode: string | null;
  /** ISO instants; '-infinity' / 'infinity' when open. */
  lo: string;
  hi: string;
}

type Obj = Record<string, unknown>;
type Coding = { system?: unknown; code?: unknown };

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Whether this is a privacy Consent (scope `patient-privacy`) that is in force. */
export function isActivePrivacyConsent(resource: Obj): boolean {
  if (resource.resourceType !== 'Consent' || resource.status !== 'active') return false;
  const scope = isObj(resource.scope) ? resource.scope : {};
  return list(scope.coding).some((c) => isObj(c) && c.system === CONSENT_SCOPE_SYSTEM && c.code === 'patient-privacy');
}

/**
 * The deny rules of a Consent ([] for anything but an active patient-privacy Consent). Throws a 422 FhirError when a
 * deny provision uses a term Firekeeper does not enforce.
 */
export function consentDenyRules(resource: Obj): DenyRule[] {
  if (!isActivePrivacyConsent(resource)) return [];
  const patientRef = isObj(resource.patient) ? resource.patient.reference : undefined;
  if (typeof patientRef !== 'string' || !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(patientRef)) {
    throw refuse('Consent.patient', 'a patient-privacy Consent needs patient as a relative reference (Patient/<id>)');
  }
  if (!isObj(resource.provision)) return [];
  return provisionRules(resource.provision, 'Consent.provision', patientRef);
}

function provisionRules(p: Obj, path: string, patient: string): DenyRule[] {
  const nested = list(p.provision).filter(isObj);
  if (p.type === 'deny' && nested.some((n) => n.type !== 'deny')) {
    throw refuse(`${path}.provision`, 'exceptions (permit provisions) inside a deny provision are not supported');
  }
  const own = p.type === 'deny' ? denyRules(p, path, patient) : [];
  return [...own, ...nested.flatMap((n, i) => provisionRules(n, `${path}.provision[${i}]`, patient))];
}

function denyRules(p: Obj, path: string, patient: string): DenyRule[] {
  for (const key of ['data', 'code', 'dataPeriod', 'purpose', 'action']) {
    if (p[key] !== undefined) throw refuse(`${path}.${key}`, `deny provisions by ${key} are not supported (use actor, class, securityLabel and period)`);
  }
  const clients = list(p.actor).map((a, i) => actorClient(a, `${path}.actor[${i}]`));
  const types = list(p.class).map((c, i) => classType(c, `${path}.class[${i}]`));
  const labels = list(p.securityLabel).map((l, i) => label(l, `${path}.securityLabel[${i}]`));
  const period = isObj(p.period) ? p.period : {};
  const lo = typeof period.start === 'string' ? dateRange(period.start)?.lo : '-infinity';
  const hi = typeof period.end === 'string' ? dateRange(period.end)?.hi : 'infinity';
  if (lo === undefined || hi === undefined) throw refuse(`${path}.period`, 'the period is not a valid date range');
  const rules: DenyRule[] = [];
  for (const clientId of clients.length ? clients : [null]) {
    for (const resourceType of types.length ? types : [null]) {
      for (const l of labels.length ? labels : [null]) {
        rules.push({ patient, clientId, resourceType, labelSystem: l?.system ?? null, labelCode: l?.code ?? null, lo, hi });
      }
    }
  }
  return rules;
}

function actorClient(actor: unknown, path: string): string {
  const ref = isObj(actor) && isObj(actor.reference) ? actor.reference : {};
  const id = isObj(ref.identifier) ? ref.identifier : {};
  if (id.system !== CLIENT_ID_SYSTEM || typeof id.value !== 'string' || id.value === '') {
    throw refuse(`${path}.reference`, `an actor must name an app by reference.identifier with system ${CLIENT_ID_SYSTEM} and the app's client_id`);
  }
  return id.value;
}

function classType(c: unknown, path: string): string {
  const coding = (isObj(c) ? c : {}) as Coding;
  if (coding.system !== RESOURCE_TYPES_SYSTEM || typeof coding.code !== 'string' || !isResourceType(coding.code)) {
    throw refuse(path, `a class must be a resource type in ${RESOURCE_TYPES_SYSTEM}`);
  }
  return coding.code;
}

function label(l: unknown, path: string): { system: string | null; code: string } {
  const coding = (isObj(l) ? l : {}) as Coding;
  if (typeof coding.code !== 'string' || coding.code === '') throw refuse(path, 'a security label needs a code');
  return { system: typeof coding.system === 'string' ? coding.system : null, code: coding.code };
}

function refuse(expression: string, diagnostics: string) {
  return unprocessable([{ severity: 'error', code: 'not-supported', diagnostics, expression: [expression] }]);
}
