// Deterministic synthetic patients (pure, no I/O). Each patient is one FHIR R4 transaction bundle that
// depends only on (seed, index), so patients can be generated in any order or in parallel workers.
// Planning happens here (who the person is, when they were seen, what they have and take);
// clinical.ts turns the plan into resources, visit by visit, so every reference points to an earlier entry.
import {
  emitAllergies, emitCondition, emitEncounter, emitImmunizations, emitLabs, emitMedicationRequest, emitPatient,
  emitProcedures, emitVitals, ImmunizationHistory,
} from './clinical.ts';
import type { Bundle } from './fhir-types.ts';
import {
  clamp, TransactionBuilder, type ConditionKey, type MedicationOrder, type PatientContext, type Person, type Problem, type Visit, type VisitKind,
} from './model.ts';
import { baseBmiAt, createBody } from './physiology.ts';
import { addDays, addMinutes, addYears, DAY_MS, Rng, wholeYears, yearsBetween, type Seed } from './random.ts';
import { LOCATIONS, PRIMARY_CARE_ORGS, STAFF, staffAt, staffWith, type StaffDef } from './shared.ts';
import { ALLERGEN, CITIES, FAMILY_NAMES, GIVEN_NAMES, MEDICATION, SPECIALTY, type Allergen, type Code, type Medication } from './vocabulary.ts';

export { generateShared } from './shared.ts';

export interface SeedOptions {
  seed: Seed;
  /** The generation date, the end of every history. Default: 2026-01-01T00:00:00Z, for determinism. */
  now?: Date;
}

export const DEFAULT_NOW = new Date('2026-01-01T00:00:00Z');

/** One transaction bundle (POST, urn:uuid fullUrls) holding patient number `index` (0-based) and their history. */
export function generatePatient(index: number, opts: SeedOptions): Bundle {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`patient index must be a non-negative integer, got ${index}`);
  const rng = new Rng(`${opts.seed}/patient/${index}`);
  const now = opts.now ?? DEFAULT_NOW;
  const person = createPerson(rng, index, now);
  const end = person.death ?? now;
  const chronic = chooseChronicConditions(rng, person, wholeYears(person.birth, end));
  const slots = scheduleVisits(rng, person, end, chronic.length > 0);
  const problems = placeProblems(rng, person, slots, chronic, end);
  const visits = assignStaff(rng, person, slots, problems);
  const tx = new TransactionBuilder(rng);
  const base = { rng, tx, person, visits, problems, end };
  const ctx: PatientContext = { ...base, patientRef: emitPatient(base) };
  const orders = planMedications(ctx);
  const immunizations = new ImmunizationHistory();
  for (const visit of visits) {
    emitEncounter(ctx, visit);
    for (const problem of problems) if (problem.visitIndex === visit.index) emitCondition(ctx, problem);
    if (visit.index === 0) emitAllergies(ctx, visit);
    emitVitals(ctx, visit);
    emitLabs(ctx, visit);
    for (const order of orders) if (order.visit === visit) emitMedicationRequest(ctx, order);
    emitProcedures(ctx, visit);
    emitImmunizations(ctx, visit, immunizations);
  }
  return tx.bundle();
}

// ---------------------------------------------------------------- the person

const AGE_BANDS: readonly (readonly [readonly [number, number], number])[] = [[[0, 17], 22], [[18, 44], 36], [[45, 64], 25], [[65, 95], 17]];

function createPerson(rng: Rng, index: number, now: Date): Person {
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const [youngest, oldest] = rng.weighted(AGE_BANDS);
  const age = rng.int(youngest, oldest);
  const birth = addDays(addYears(now, -age), -rng.int(14, 364));
  const deathRisk = age < 1 ? 0 : age < 60 ? 0.004 : age < 80 ? 0.04 : 0.12;
  let death: Date | undefined;
  if (rng.chance(deathRisk)) {
    const candidate = addMinutes(addDays(now, -rng.int(30, 700)), rng.int(0, 1439));
    if (candidate.getTime() > addYears(birth, 1).getTime()) death = candidate;
  }
  const names = GIVEN_NAMES[gender];
  const given = rng.chance(0.4) ? rng.sample(names, 2) : [rng.pick(names)];
  const home = rng.pick(PRIMARY_CARE_ORGS);
  const ageGroup = wholeYears(birth, death ?? now) < 18 ? 'children' : 'adults';
  const gp = rng.pick(STAFF.filter((s) => s.location.org === home && s.primaryCare === ageGroup));
  return {
    index, gender, birth, ...(death ? { death } : {}), given, family: rng.pick(FAMILY_NAMES), city: rng.pick(CITIES), gp,
    body: createBody(rng, gender), allergies: chooseAllergies(rng),
  };
}

function chooseAllergies(rng: Rng): Allergen[] {
  const count = rng.weighted([[0, 70], [1, 20], [2, 7], [3, 3]]);
  const remaining = Object.values(ALLERGEN).map((a): readonly [Allergen, number] => [a, a.weight]);
  const chosen: Allergen[] = [];
  while (chosen.length < count) {
    const allergen = rng.weighted(remaining);
    chosen.push(allergen);
    remaining.splice(remaining.findIndex(([a]) => a === allergen), 1);
  }
  return chosen;
}

// ---------------------------------------------------------------- conditions

interface ChronicRule { key: ConditionKey; minAge: number; p: (age: number, person: Person, chosen: ReadonlySet<ConditionKey>) => number }

const ramp = (age: number, from: number, perYear: number, max: number): number => clamp((age - from) * perYear, 0, max);

/** Prevalence by age (and by sex, build and other conditions), checked in this order. */
const CHRONIC_RULES: readonly ChronicRule[] = [
  { key: 'hypertension', minAge: 25, p: (age) => ramp(age, 25, 0.009, 0.6) },
  { key: 'hyperlipidemia', minAge: 30, p: (age) => ramp(age, 30, 0.007, 0.4) },
  { key: 'obesity', minAge: 18, p: (age, person) => (baseBmiAt(person.body, age) >= 30 ? 0.6 : 0) },
  { key: 'diabetes', minAge: 30, p: (age, _, chosen) => ramp(age, 30, 0.004, 0.25) + (chosen.has('obesity') ? 0.12 : 0) },
  { key: 'asthma', minAge: 2, p: () => 0.08 },
  { key: 'copd', minAge: 45, p: (age) => ramp(age, 45, 0.002, 0.1) },
  { key: 'osteoarthritis', minAge: 45, p: (age) => ramp(age, 45, 0.008, 0.4) },
  { key: 'ckd', minAge: 50, p: (_, __, chosen) => 0.03 + (chosen.has('hypertension') ? 0.08 : 0) + (chosen.has('diabetes') ? 0.15 : 0) },
  { key: 'atrialFibrillation', minAge: 60, p: (age) => ramp(age, 60, 0.004, 0.15) },
  { key: 'depression', minAge: 12, p: (_, person) => (person.gender === 'female' ? 0.1 : 0.06) },
  { key: 'hypothyroidism', minAge: 30, p: (_, person) => (person.gender === 'female' ? 0.08 : 0.02) },
];
const MIN_AGE = new Map(CHRONIC_RULES.map((r) => [r.key, r.minAge]));
const MAX_CHRONIC = 4;
const MAX_PROBLEMS = 5;

function chooseChronicConditions(rng: Rng, person: Person, age: number): ConditionKey[] {
  const chosen = new Set<ConditionKey>();
  for (const rule of CHRONIC_RULES) {
    if (chosen.size < MAX_CHRONIC && age >= rule.minAge && rng.chance(rule.p(age, person, chosen))) chosen.add(rule.key);
  }
  return [...chosen];
}

// ---------------------------------------------------------------- visits

type Slot = Omit<Visit, 'staff' | 'location' | 'reason' | 'ref'>;

const DURATION_MINUTES: Record<VisitKind, readonly [number, number]> = {
  checkup: [20, 45], followUp: [15, 30], symptom: [15, 30], emergency: [90, 420], inpatient: [1 * 1440, 6 * 1440],
};

/** 6–12 visits over the last five years (or since birth), in order and not overlapping. */
function scheduleVisits(rng: Rng, person: Person, end: Date, hasChronic: boolean): Slot[] {
  const windowStart = new Date(Math.max(addDays(person.birth, 1).getTime(), addYears(end, -5).getTime()));
  const windowEnd = addDays(end, -1);
  const days = Array.from({ length: rng.int(6, 12) }, () => rng.date(windowStart, windowEnd)).sort((a, b) => a.getTime() - b.getTime());
  const slots: Slot[] = [];
  let lastCheckup: Date | undefined;
  for (const day of days) {
    const age = yearsBetween(person.birth, day);
    const setting = rng.weighted<'ambulatory' | 'emergency' | 'inpatient'>([['inpatient', age >= 65 ? 7 : 3], ['emergency', 12], ['ambulatory', 85]]);
    const checkupDue = !lastCheckup || day.getTime() - lastCheckup.getTime() > 300 * DAY_MS;
    const kind: VisitKind = setting !== 'ambulatory' ? setting : checkupDue ? 'checkup' : hasChronic && rng.chance(0.7) ? 'followUp' : 'symptom';
    if (kind === 'checkup') lastCheckup = day;
    const midnight = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
    let start = addMinutes(midnight, setting === 'ambulatory' ? rng.int(96, 198) * 5 : rng.int(0, 1439)); // clinics: 08:00–16:30
    const previous = slots[slots.length - 1];
    if (previous && start.getTime() <= previous.end.getTime()) start = addDays(start, Math.ceil((previous.end.getTime() - start.getTime()) / DAY_MS) + 1);
    const [minMinutes, maxMinutes] = DURATION_MINUTES[kind];
    const visitEnd = addMinutes(start, rng.int(minMinutes, maxMinutes));
    if (visitEnd.getTime() > end.getTime()) break;
    slots.push({ index: slots.length, kind, start, end: visitEnd, age: yearsBetween(person.birth, start) });
  }
  return slots;
}

const ACUTE_ADULT: readonly ConditionKey[] = ['sinusitis', 'bronchitis', 'strepThroat'];
const ACUTE_CHILD: readonly ConditionKey[] = ['otitisMedia', 'strepThroat', 'sinusitis', 'bronchitis'];

const isAmbulatory = (kind: VisitKind): boolean => kind === 'checkup' || kind === 'followUp' || kind === 'symptom';

/**
 * Places each chronic condition and acute episodes at sick visits. A pre-existing condition (onset before the
 * record starts) is recorded at the first primary-care visit; a new one is diagnosed at a check-up.
 */
function placeProblems(rng: Rng, person: Person, slots: readonly Slot[], chronic: readonly ConditionKey[], end: Date): Problem[] {
  const problems: Problem[] = [];
  const first = slots[0];
  if (!first) return problems;
  const home = slots.find((s) => isAmbulatory(s.kind)) ?? first;
  for (const key of chronic) {
    const earliest = addYears(person.birth, MIN_AGE.get(key)!);
    if (earliest.getTime() < addYears(first.start, -1).getTime() && rng.chance(0.65)) {
      const from = new Date(Math.max(earliest.getTime(), addYears(first.start, -20).getTime()));
      problems.push({ key, chronic: true, onset: rng.date(from, first.start), visitIndex: home.index, recorded: home.start });
      continue;
    }
    const after = slots.filter((s) => isAmbulatory(s.kind) && s.start.getTime() >= earliest.getTime());
    const checkups = after.filter((s) => s.kind === 'checkup');
    if (after.length === 0) continue;
    const slot = rng.pick(checkups.length ? checkups : after);
    problems.push({ key, chronic: true, onset: slot.start, visitIndex: slot.index, recorded: slot.start });
  }
  for (const slot of slots) {
    if (problems.length >= MAX_PROBLEMS) break;
    if (!rng.chance(slot.kind === 'symptom' ? 0.55 : slot.kind === 'emergency' ? 0.25 : 0)) continue;
    const key = rng.pick(slot.age < 12 ? ACUTE_CHILD : ACUTE_ADULT);
    const onset = new Date(Math.max(person.birth.getTime(), addDays(slot.start, -rng.int(1, 5)).getTime()));
    const abatement = addDays(slot.start, rng.int(7, 14));
    problems.push({ key, chronic: false, onset, visitIndex: slot.index, recorded: slot.start, ...(abatement.getTime() <= end.getTime() ? { abatement } : {}) });
  }
  return problems;
}

const SPECIALIST: Partial<Record<ConditionKey, Code>> = { diabetes: SPECIALTY.endocrinology, ckd: SPECIALTY.nephrology, atrialFibrillation: SPECIALTY.cardiology };
const ADMISSION_REASONS: ReadonlySet<ConditionKey> = new Set(['copd', 'asthma', 'atrialFibrillation', 'ckd', 'diabetes', 'hypertension']);

/** Decides who saw the patient, where, and what each visit was about. */
function assignStaff(rng: Rng, person: Person, slots: readonly Slot[], problems: readonly Problem[]): Visit[] {
  return slots.map((slot) => {
    const known = problems.filter((p) => p.chronic && p.recorded.getTime() < slot.start.getTime());
    const acute = problems.find((p) => !p.chronic && p.visitIndex === slot.index);
    let reason: Problem | undefined;
    let staff: StaffDef;
    if (slot.kind === 'emergency') {
      reason = acute ?? (known.length && rng.chance(0.3) ? rng.pick(known) : undefined);
      staff = rng.pick(staffAt(LOCATIONS.emergency));
    } else if (slot.kind === 'inpatient') {
      const admissible = known.filter((p) => ADMISSION_REASONS.has(p.key));
      reason = admissible.length ? rng.pick(admissible) : undefined;
      staff = rng.pick(staffAt(LOCATIONS.ward));
    } else {
      reason = slot.kind === 'followUp' && known.length ? rng.pick(known) : acute;
      const specialty = reason && SPECIALIST[reason.key];
      staff = slot.kind === 'followUp' && specialty && rng.chance(0.4) ? rng.pick(staffWith(specialty)) : primaryCarer(rng, person.gp, slot.age);
    }
    return { ...slot, staff, location: staff.location, ...(reason ? { reason } : {}) };
  });
}

/** Usually the patient's own GP; otherwise a colleague at the same clinic who sees the patient's age group. */
function primaryCarer(rng: Rng, gp: StaffDef, age: number): StaffDef {
  const group = age < 18 ? 'children' : 'adults';
  if (gp.primaryCare === group && rng.chance(0.8)) return gp;
  return rng.pick(staffAt(gp.location).filter((s) => s.primaryCare === group));
}

// ---------------------------------------------------------------- medications

const M = MEDICATION;
const TREATMENT: Partial<Record<ConditionKey, (rng: Rng, person: Person) => Medication[]>> = {
  hypertension: (rng) => [M.lisinopril, ...(rng.chance(0.3) ? [M.amlodipine] : rng.chance(0.2) ? [M.hydrochlorothiazide] : [])],
  diabetes: () => [M.metformin],
  hyperlipidemia: (rng) => (rng.chance(0.85) ? [M.atorvastatin] : []),
  asthma: (rng) => [M.albuterol, ...(rng.chance(0.4) ? [M.fluticasone] : [])],
  copd: () => [M.albuterol, M.fluticasone],
  osteoarthritis: (rng, person) => [tolerates(person, ALLERGEN.ibuprofen, ALLERGEN.aspirin) && rng.chance(0.5) ? M.ibuprofen : M.acetaminophen],
  atrialFibrillation: () => [M.warfarin],
  depression: (rng) => (rng.chance(0.7) ? [M.sertraline] : []),
  hypothyroidism: () => [M.levothyroxine],
  strepThroat: (_, person) => [antibiotic(person)],
  otitisMedia: (_, person) => [antibiotic(person)],
  sinusitis: (rng) => (rng.chance(0.3) ? [M.acetaminophen] : []),
};

const tolerates = (person: Person, ...allergens: Allergen[]): boolean => !allergens.some((a) => person.allergies.includes(a));
const antibiotic = (person: Person): Medication => (tolerates(person, ALLERGEN.penicillin) ? M.amoxicillin : M.azithromycin);
const painkiller = (person: Person): Medication => (tolerates(person, ALLERGEN.ibuprofen, ALLERGEN.aspirin) ? M.ibuprofen : M.acetaminophen);

/** Orders consistent with the problems: chronic ones renewed after a year, short courses completed unless still running. */
function planMedications(ctx: PatientContext): MedicationOrder[] {
  const { rng, person, visits, end } = ctx;
  const lastStatus = person.death ? 'stopped' : 'active';
  const orders: MedicationOrder[] = [];
  const onChronic = new Set<Medication>();
  for (const problem of ctx.problems) {
    const visit = visits[problem.visitIndex]!;
    for (const medication of TREATMENT[problem.key]?.(rng, person) ?? []) {
      if (!problem.chronic) {
        const courseEnd = addDays(visit.start, medication.days ?? 10);
        orders.push({ visit, medication, chronic: false, reason: problem, status: courseEnd.getTime() <= end.getTime() ? 'completed' : lastStatus });
        continue;
      }
      if (onChronic.has(medication)) continue;
      onChronic.add(medication);
      const renewal = visits.filter((v) => v.kind !== 'emergency' && v.kind !== 'inpatient' && v.start.getTime() >= visit.start.getTime() + 330 * DAY_MS).at(-1);
      orders.push({ visit, medication, chronic: true, reason: problem, status: renewal ? 'completed' : lastStatus });
      if (renewal) orders.push({ visit: renewal, medication, chronic: true, reason: problem, status: lastStatus });
    }
  }
  for (const visit of visits) {
    if (visit.kind === 'emergency' && !visit.reason && rng.chance(0.35)) {
      const medication = painkiller(person);
      const done = addDays(visit.start, medication.days ?? 10).getTime() <= end.getTime();
      orders.push({ visit, medication, chronic: false, status: done ? 'completed' : lastStatus });
    }
  }
  return orders;
}
