// The body of POST {base}/launch, checked field by field: unknown fields, wrong types and malformed values are
// refused (`invalid_request` naming the field), never ignored. The launch context fields are those of the SMART App
// Launch 2.2 token response ("Launch context arrives with your access_token"); whether the resources exist is the
// endpoint's check (launch-api.ts).
import { OAuthError } from '../auth/oauth-errors.ts';
import { CLIENT_ID, jsonObject } from '../auth/clients/client-json.ts';
import type { LaunchContextRecord } from '../auth/launch-store.ts';
import { isResourceType } from '../fhir/search-parameters.ts';
import { isValidId } from '../fhir/validation.ts';

export interface LaunchRequest {
  clientId: string;
  /** The username of the user the launch is for (admin credential only). */
  user?: string;
  context: LaunchContextRecord;
}

type FhirContextItem = NonNullable<LaunchContextRecord['fhirContext']>[number];

const FIELDS = new Set(['client_id', 'user', 'patient', 'encounter', 'fhirContext', 'intent', 'need_patient_banner', 'smart_style_url', 'tenant', 'parameters']);
const MAX_PARAMETERS = 20;
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
// Names a custom parameter may not take: the token response's own fields (RFC 6749 §5.1, OpenID Connect, SMART's
// launch context) and the access token's registered claims (RFC 7519 §4.1, RFC 9068), which the context also feeds.
const RESERVED_NAMES = new Set([
  'access_token', 'token_type', 'expires_in', 'refresh_token', 'scope', 'id_token', 'state', 'error', 'error_description', 'error_uri',
  'patient', 'encounter', 'fhirContext', 'fhirUser', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant', 'authorization_details',
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'client_id', 'typ', 'cnf', 'parameters',
]);
const CONTEXT_ITEM_FIELDS = new Set(['reference', 'canonical', 'identifier', 'type', 'role']);
const MAX_CONTEXT_ITEMS = 20;
const RELATIVE_REFERENCE = /^([A-Za-z]+)\/([^/]+)$/;
// RFC 3986 §3.1: an absolute URI starts with a scheme.
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const invalid = (field: string, rule: string) => new OAuthError('invalid_request', `${field}: ${rule}`);

export function parseLaunchRequest(body: unknown): LaunchRequest {
  const o = jsonObject(body);
  const unknown = Object.keys(o).find((k) => !FIELDS.has(k));
  if (unknown !== undefined) throw invalid(unknown, 'not a launch field');
  const clientId = o.client_id;
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) throw invalid('client_id', 'required: the id of a registered app');
  const context: LaunchContextRecord = {};
  if (o.patient !== undefined) context.patient = id('patient', o.patient);
  if (o.encounter !== undefined) context.encounter = id('encounter', o.encounter);
  if (o.fhirContext !== undefined) context.fhirContext = fhirContext(o.fhirContext);
  if (o.intent !== undefined) context.intent = text('intent', o.intent);
  if (o.need_patient_banner !== undefined) {
    if (typeof o.need_patient_banner !== 'boolean') throw invalid('need_patient_banner', 'true or false');
    context.need_patient_banner = o.need_patient_banner;
  }
  if (o.smart_style_url !== undefined) context.smart_style_url = webUrl('smart_style_url', o.smart_style_url);
  if (o.tenant !== undefined) context.tenant = text('tenant', o.tenant);
  if (o.parameters !== undefined) context.parameters = parameters(o.parameters);
  return { clientId, ...(o.user !== undefined ? { user: text('user', o.user) } : {}), context };
}

/** Custom launch parameters: a JSON object of at most 20 names, each a string, number or boolean. */
function parameters(v: unknown): Record<string, string | number | boolean> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length > MAX_PARAMETERS) {
    throw invalid('parameters', `an object of at most ${MAX_PARAMETERS} name: value pairs`);
  }
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(v)) {
    if (!PARAMETER_NAME.test(name)) throw invalid(`parameters.${name}`, 'a name is a letter, then up to 63 letters, digits or _');
    if (RESERVED_NAMES.has(name)) throw invalid(`parameters.${name}`, 'a name the token response or the access token already uses');
    if (typeof value === 'string') out[name] = text(`parameters.${name}`, value);
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name] = value;
    else throw invalid(`parameters.${name}`, 'a string, number or boolean');
  }
  return out;
}

function id(field: string, v: unknown): string {
  if (typeof v !== 'string' || !isValidId(v)) throw invalid(field, 'a FHIR resource id (1 to 64 letters, digits, - or .)');
  return v;
}

function text(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 256 || CONTROL.test(v)) throw invalid(field, '1 to 256 characters, no control characters');
  return v;
}

function webUrl(field: string, v: unknown): string {
  if (typeof v === 'string' && URL.canParse(v)) {
    const url = new URL(v);
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '') return url.href;
  }
  throw invalid(field, 'an absolute http or https URL');
}

// SMART App Launch 2.2 §fhirContext: each item has a relative `reference`, a `canonical` or an `identifier`; `type`
// is the resource type; `role` an absolute URI, or "launch" (the default). The Patient and Encounter of the launch
// have their own fields: in fhirContext they need another role.
function fhirContext(v: unknown): FhirContextItem[] {
  if (!Array.isArray(v) || v.length > MAX_CONTEXT_ITEMS) throw invalid('fhirContext', `an array of at most ${MAX_CONTEXT_ITEMS} objects`);
  return v.map((item, i) => contextItem(`fhirContext[${i}]`, item));
}

function contextItem(field: string, v: unknown): FhirContextItem {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(field, 'an object');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !CONTEXT_ITEM_FIELDS.has(k));
  if (unknown !== undefined) throw invalid(`${field}.${unknown}`, 'not a fhirContext field (reference, canonical, identifier, type, role)');
  const item: FhirContextItem = {};
  if (o.reference !== undefined) {
    const m = typeof o.reference === 'string' ? RELATIVE_REFERENCE.exec(o.reference) : null;
    if (!m || !isResourceType(m[1]!) || !isValidId(m[2]!)) throw invalid(`${field}.reference`, 'a relative reference, Type/id');
    item.reference = o.reference as string;
  }
  if (o.canonical !== undefined) {
    if (typeof o.canonical !== 'string' || !ABSOLUTE_URI.test(o.canonical)) throw invalid(`${field}.canonical`, 'an absolute canonical URL');
    item.canonical = o.canonical;
  }
  if (o.identifier !== undefined) item.identifier = identifier(`${field}.identifier`, o.identifier);
  if ([item.reference, item.canonical, item.identifier].filter((x) => x !== undefined).length !== 1) {
    throw invalid(field, 'exactly one of reference, canonical or identifier');
  }
  if (o.type !== undefined) {
    if (typeof o.type !== 'string' || !isResourceType(o.type)) throw invalid(`${field}.type`, 'a FHIR resource type');
    item.type = o.type;
  }
  if (o.role !== undefined) {
    if (typeof o.role !== 'string' || (o.role !== 'launch' && !ABSOLUTE_URI.test(o.role))) throw invalid(`${field}.role`, 'an absolute URI, or "launch"');
    item.role = o.role;
  }
  const type = item.reference?.split('/')[0] ?? item.type;
  if ((type === 'Patient' || type === 'Encounter') && (item.role ?? 'launch') === 'launch') {
    throw invalid(field, `the launch ${type.toLowerCase()} goes in "${type.toLowerCase()}"; in fhirContext a ${type} needs a role other than "launch"`);
  }
  return item;
}

function identifier(field: string, v: unknown): { system?: string; value: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(field, 'an Identifier object with a value');
  const { system, value, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof value !== 'string' || value === '' || (system !== undefined && (typeof system !== 'string' || !ABSOLUTE_URI.test(system)))) {
    throw invalid(field, 'an Identifier object: a value, and optionally a system URI');
  }
  return { ...(system !== undefined ? { system: system as string } : {}), value };
}
