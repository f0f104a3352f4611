// Data for the standalone-launch pickers (SMART App Launch 2.2 §Launch context arrives with your access_token:
// `launch/patient`, `launch/encounter`): which patients a user may choose, and a patient's encounters.
import { SYSTEM_PRINCIPAL } from '../access/principal.ts';
import { searchBundle } from '../fhir/search/search-service.ts';
import type { Queryable } from '../store/database.ts';
import type { User } from './users/user-store.ts';

export interface PatientChoice {
  id: string;
  name: string;
  birthDate?: string;
  gender?: string;
}

export interface EncounterChoice {
  id: string;
  label: string;
  start?: string;
}

interface HumanName { text?: string; given?: string[]; family?: string }
const PICKER_SIZE = 20;

async function search(q: Queryable, fhirBase: string, type: string, params: Record<string, string>): Promise<Record<string, unknown>[]> {
  const bundle = JSON.parse(await searchBundle(q, SYSTEM_PRINCIPAL, { type, params: new URLSearchParams(params), strict: false }, fhirBase)) as { entry?: { resource: Record<string, unknown> }[] };
  return (bundle.entry ?? []).map((e) => e.resource);
}

export function displayName(names: unknown): string {
  const n = (names as HumanName[] | undefined)?.[0];
  if (!n) return '(no name)';
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/**
 * The patient a patient or related-person user acts for, without asking (their own record, or the one patient a
 * RelatedPerson is linked to); undefined when the user must pick.
 */
export async function ownPatient(q: Queryable, fhirBase: string, user: User): Promise<string | undefined> {
  const [type, id] = user.fhirUser?.split('/') ?? [];
  if (type === 'Patient') return id;
  if (type !== 'RelatedPerson') return undefined;
  const [related] = await search(q, fhirBase, 'RelatedPerson', { _id: id! });
  const ref = (related?.patient as { reference?: string } | undefined)?.reference;
  return ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
}

/** Patients a clinician may pick, by name; narrowed to an organization's patients by that access policy. */
export async function findPatients(q: Queryable, fhirBase: string, user: User, name: string): Promise<PatientChoice[]> {
  const params: Record<string, string> = { _count: String(PICKER_SIZE), _sort: 'family,given' };
  if (name.trim()) params.name = name.trim();
  if (user.accessPolicy.kind === 'organization') params.organization = user.accessPolicy.organization;
  if (user.accessPolicy.kind === 'own-compartment') return [];
  return (await search(q, fhirBase, 'Patient', params)).map(toChoice);
}

const toChoice = (p: Record<string, unknown>): PatientChoice => ({
  id: p.id as string, name: displayName(p.name), birthDate: p.birthDate as string | undefined, gender: p.gender as string | undefined,
});

export async function patientById(q: Queryable, fhirBase: string, id: string): Promise<PatientChoice | undefined> {
  const [patient] = await search(q, fhirBase, 'Patient', { _id: id });
  return patient && toChoice(patient);
}

/** Whether the user's access policy lets them open this patient's record in an app. */
export async function mayChoosePatient(q: Queryable, fhirBase: string, user: User, id: string): Promise<boolean> {
  const policy = user.accessPolicy;
  if (policy.kind === 'own-compartment') return (await ownPatient(q, fhirBase, user)) === id;
  const params: Record<string, string> = { _id: id };
  if (policy.kind === 'organization') params.organization = policy.organization;
  return (await search(q, fhirBase, 'Patient', params)).length === 1;
}

/** The patient's most recent encounters. */
export async function encountersOf(q: Queryable, fhirBase: string, patientId: string): Promise<EncounterChoice[]> {
  const encounters = await search(q, fhirBase, 'Encounter', { patient: `Patient/${patientId}`, _sort: '-date', _count: String(PICKER_SIZE) });
  return encounters.map((e) => {
    const type = (e.type as { text?: string; coding?: { display?: string }[] }[] | undefined)?.[0];
    const start = (e.period as { start?: string } | undefined)?.start;
    return { id: e.id as string, label: type?.text ?? type?.coding?.[0]?.display ?? (e.class as { code?: string } | undefined)?.code ?? 'Encounter', start };
  });
}
