// A patient's privacy preferences as the portal offers them ("do not share <what> with <which app>"), kept as one
// FHIR `Consent` per patient (scope patient-privacy, a `permit` base with one `deny` provision per preference) that
// the FHIR server turns into deny rules and enforces on every app request (access/consent-rules.ts). The portal
// writes it through the FHIR API, as the patient.
import { CLIENT_ID_SYSTEM } from '../access/consent-rules.ts';

export const CONSENT_SCOPE = { system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' };
const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';
/** HL7 confidentiality `R` (restricted): what "sensitive" means here. */
export const RESTRICTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };
const RECIPIENT = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] };

interface WithholdChoice {
  label: string;
  /** Only this resource type (a Consent `class`); every type when absent. */
  type?: string;
  /** Only data labelled restricted (a Consent `securityLabel`). */
  restricted?: boolean;
}

/** What a preference withholds: the choices of the portal's form. */
export const WITHHOLD = {
  all: { label: 'my whole record' },
  Condition: { label: 'my conditions', type: 'Condition' },
  MedicationRequest: { label: 'my medications', type: 'MedicationRequest' },
  Observation: { label: 'my results and vital signs', type: 'Observation' },
  AllergyIntolerance: { label: 'my allergies', type: 'AllergyIntolerance' },
  'sensitive-conditions': { label: 'my sensitive conditions', type: 'Condition', restricted: true },
  sensitive: { label: 'anything marked sensitive', restricted: true },
} satisfies Record<string, WithholdChoice>;

export type Withhold = keyof typeof WITHHOLD;

export interface Preference {
  withhold: Withhold;
  /** The app it applies to, or null for every app. */
  clientId: string | null;
}

export const isWithhold = (v: string): v is Withhold => Object.hasOwn(WITHHOLD, v);

/** The id of the portal's Consent for a patient. */
export const consentId = (patientId: string) => `privacy-${patientId}`;

/** The Consent that says exactly these preferences (inactive when there are none). */
export function preferencesConsent(patientId: string, preferences: readonly Preference[], now = new Date()): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id: consentId(patientId),
    status: preferences.length > 0 ? 'active' : 'inactive',
    scope: { coding: [CONSENT_SCOPE] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${patientId}` },
    dateTime: now.toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: { type: 'permit', ...(preferences.length > 0 ? { provision: preferences.map(denyProvision) } : {}) },
  };
}

function denyProvision(p: Preference): Record<string, unknown> {
  const w: WithholdChoice = WITHHOLD[p.withhold];
  return {
    type: 'deny',
    ...(p.clientId ? { actor: [{ role: RECIPIENT, reference: { identifier: { system: CLIENT_ID_SYSTEM, value: p.clientId } } }] } : {}),
    ...(w.type ? { class: [{ system: RESOURCE_TYPES, code: w.type }] } : {}),
    ...(w.restricted ? { securityLabel: [RESTRICTED] } : {}),
  };
}

/** The preferences an (active) portal Consent holds; provisions the portal did not write are skipped. */
export function preferencesOf(consent: Record<string, unknown> | undefined): Preference[] {
  if (!consent || consent.status !== 'active') return [];
  const provisions = ((consent.provision as { provision?: unknown[] } | undefined)?.provision ?? []) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const out: Preference[] = [];
  for (const p of provisions) {
    const type = p.class?.[0]?.code as string | undefined;
    const restricted = p.securityLabel?.[0]?.code === RESTRICTED.code;
    const withhold = (Object.keys(WITHHOLD) as Withhold[]).find((k) => {
      const w: WithholdChoice = WITHHOLD[k];
      return w.type === type && (w.restricted ?? false) === restricted;
    });
    const clientId = p.actor?.[0]?.reference?.identifier?.value ?? null;
    if (withhold) out.push({ withhold, clientId });
  }
  return out;
}
