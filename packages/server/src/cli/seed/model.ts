// The in-memory model of one synthetic patient's history, shared by the planner (generator.ts)
// and the resource emitters (clinical.ts), plus the transaction-bundle builder.
import type { Bundle, BundleEntry, Quantity, Reference, Resource } from './fhir-types.ts';
import type { Body, Treatment } from './physiology.ts';
import type { Rng } from './random.ts';
import type { LocationDef, StaffDef } from './shared.ts';
import { CONDITION, SYSTEM, type Allergen, type City, type Medication } from './vocabulary.ts';

export type ConditionKey = keyof typeof CONDITION;
export type VisitKind = 'checkup' | 'followUp' | 'symptom' | 'emergency' | 'inpatient';

export interface Person {
  index: number;
  gender: 'male' | 'female';
  birth: Date;
  death?: Date;
  given: string[];
  family: string;
  city: City;
  gp: StaffDef;
  body: Body;
  allergies: Allergen[];
}

export interface Visit {
  index: number;
  kind: VisitKind;
  start: Date;
  end: Date;
  /** Age in (fractional) years at the start of the visit. */
  age: number;
  staff: StaffDef;
  location: LocationDef;
  /** The problem the visit is about, if any (Encounter.reasonCode). */
  reason?: Problem;
  /** The Encounter's fullUrl once emitted. */
  ref?: string;
}

export interface Problem {
  key: ConditionKey;
  chronic: boolean;
  onset: Date;
  /** Index of the visit at which the condition was first recorded. */
  visitIndex: number;
  recorded: Date;
  abatement?: Date;
  /** The Condition's fullUrl once emitted. */
  ref?: string;
}

export interface MedicationOrder {
  visit: Visit;
  medication: Medication;
  status: 'active' | 'completed' | 'stopped';
  chronic: boolean;
  reason?: Problem;
}

/** Everything the emitters need for one patient. */
export interface PatientContext {
  rng: Rng;
  tx: TransactionBuilder;
  person: Person;
  patientRef: string;
  visits: Visit[];
  problems: Problem[];
  /** End of the recorded history: the date of death or `now`. */
  end: Date;
}

/** Collects the POST entries of a transaction; each new resource gets a urn:uuid fullUrl from the PRNG. */
export class TransactionBuilder {
  readonly #entries: BundleEntry[] = [];
  readonly #rng: Rng;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  /** Adds a resource and returns its fullUrl, for use as a reference by later entries. */
  add(resource: Resource): string {
    const fullUrl = `urn:uuid:${this.#rng.uuid()}`;
    this.#entries.push({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });
    return fullUrl;
  }

  bundle(): Bundle {
    return { resourceType: 'Bundle', type: 'transaction', entry: this.#entries };
  }
}

export const ref = (reference: string): Reference => ({ reference });
export const sharedRef = (type: 'Organization' | 'Location' | 'Practitioner', id: string): Reference => ({ reference: `${type}/${id}` });

export function quantity(value: number, ucum: string, unit = ucum): Quantity {
  return { value, unit, system: SYSTEM.ucum, code: ucum };
}

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

export const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/** The problem with this key present (onset passed, not resolved) at `at`, if any. */
export function activeProblem(ctx: Pick<PatientContext, 'problems'>, key: ConditionKey, at: Date): Problem | undefined {
  const t = at.getTime();
  return ctx.problems.find((p) => p.key === key && p.onset.getTime() <= t && (!p.abatement || p.abatement.getTime() > t));
}

/** Whether a chronic condition is absent, present but not yet treated (the diagnosing visit), or treated. */
export function treatment(ctx: Pick<PatientContext, 'problems'>, key: ConditionKey, visit: Visit): Treatment {
  const p = activeProblem(ctx, key, visit.start);
  if (!p) return 'none';
  const preExisting = p.onset.getTime() < p.recorded.getTime();
  return preExisting || p.visitIndex < visit.index ? 'treated' : 'untreated';
}
