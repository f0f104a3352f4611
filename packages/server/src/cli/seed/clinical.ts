// Emits the FHIR resources of one patient's history into the transaction, visit by visit:
// Patient, Encounter, Condition, AllergyIntolerance, vital-sign and laboratory Observations with their
// DiagnosticReports, MedicationRequest, Procedure and Immunization. The small clinical protocols that decide
// what is measured, ordered or given at a visit live here too.
import type {
  AllergyIntolerance, Condition, ContactPoint, DiagnosticReport, Dosage, Encounter, Immunization,
  MedicationRequest, Observation, Patient, Procedure, Quantity,
} from './fhir-types.ts';
import { activeProblem, quantity, ref, sharedRef, treatment, type MedicationOrder, type PatientContext, type Problem, type Visit } from './model.ts';
import { measureLab, measureVitals, referenceRange, type LabState } from './physiology.ts';
import { addMinutes, DAY_MS, fhirDate, fhirDateTime, wholeYears, type Rng } from './random.ts';
import { asciiSlug, cc, phoneNumber, streetAddress } from './shared.ts';
import {
  ADMIT_FROM_EMERGENCY, ALLERGY_STATUS, CATEGORY, CONDITION, CONDITION_STATUS, DISCHARGED_HOME, DOSE_ORDERED, ENCOUNTER_CLASS,
  ENCOUNTER_TYPE, IDENTIFIER_TYPE, INTERPRETATION, LAB_PANEL, MANIFESTATION, MARITAL_STATUS, PARTICIPATION, PROCEDURE,
  SYSTEM, VACCINE, VITALS, type Code, type LabPanel, type Medication, type VitalSign,
} from './vocabulary.ts';

const earlier = (a: Date, b: Date): Date => (a.getTime() <= b.getTime() ? a : b);

export function emitPatient(ctx: Omit<PatientContext, 'patientRef'>): string {
  const { rng, person } = ctx;
  const age = wholeYears(person.birth, ctx.end);
  const telecom: ContactPoint[] = [{ system: 'phone', value: phoneNumber(rng, person.city), use: 'home' }];
  if (age >= 16 && rng.chance(0.7)) telecom.push({ system: 'phone', value: phoneNumber(rng, person.city), use: 'mobile' });
  if (age >= 16 && rng.chance(0.6)) {
    telecom.push({ system: 'email', value: `${asciiSlug(person.given[0]!)}.${asciiSlug(person.family)}${rng.int(1, 99)}@example.com`, use: 'home' });
  }
  const patient: Patient = {
    resourceType: 'Patient',
    identifier: [
      { use: 'usual', type: cc(IDENTIFIER_TYPE.medicalRecord), system: SYSTEM.mrn, value: `FK${String(person.index).padStart(7, '0')}` },
      { use: 'official', type: cc(IDENTIFIER_TYPE.socialSecurity), system: SYSTEM.ssn, value: `999-${rng.int(10, 99)}-${rng.int(1000, 9999)}` },
    ],
    active: true,
    name: [{ use: 'official', family: person.family, given: person.given }],
    telecom,
    gender: person.gender,
    birthDate: fhirDate(person.birth),
    ...(person.death ? { deceasedDateTime: fhirDateTime(person.death) } : {}),
    address: [streetAddress(rng, person.city, 'home')],
    ...(age >= 18 ? { maritalStatus: cc(maritalStatus(rng, age)) } : {}),
    generalPractitioner: [sharedRef('Practitioner', person.gp.id)],
    managingOrganization: sharedRef('Organization', person.gp.location.org.id),
  };
  return ctx.tx.add(patient);
}

function maritalStatus(rng: Rng, age: number): Code {
  const M = MARITAL_STATUS;
  return rng.weighted([[M.married, 50], [M.neverMarried, age < 30 ? 60 : 25], [M.divorced, 13], [M.widowed, age >= 65 ? 15 : 1]]);
}

const ENCOUNTER_KIND = {
  checkup: { cls: ENCOUNTER_CLASS.ambulatory, type: ENCOUNTER_TYPE.checkup },
  followUp: { cls: ENCOUNTER_CLASS.ambulatory, type: ENCOUNTER_TYPE.followUp },
  symptom: { cls: ENCOUNTER_CLASS.ambulatory, type: ENCOUNTER_TYPE.symptom },
  emergency: { cls: ENCOUNTER_CLASS.emergency, type: ENCOUNTER_TYPE.emergency },
  inpatient: { cls: ENCOUNTER_CLASS.inpatient, type: ENCOUNTER_TYPE.admission },
};

export function emitEncounter(ctx: PatientContext, visit: Visit): void {
  const kind = ENCOUNTER_KIND[visit.kind];
  const type = visit.kind === 'checkup' && visit.age < 18 ? ENCOUNTER_TYPE.wellChild : kind.type;
  const encounter: Encounter = {
    resourceType: 'Encounter',
    status: 'finished',
    class: { ...kind.cls },
    type: [cc(type)],
    subject: ref(ctx.patientRef),
    participant: [{ type: [cc(visit.kind === 'inpatient' ? PARTICIPATION.attender : PARTICIPATION.primaryPerformer)], individual: sharedRef('Practitioner', visit.staff.id) }],
    period: { start: fhirDateTime(visit.start), end: fhirDateTime(visit.end) },
    ...(visit.reason ? { reasonCode: [cc(CONDITION[visit.reason.key])] } : {}),
    ...(visit.kind === 'inpatient' ? { hospitalization: { admitSource: cc(ADMIT_FROM_EMERGENCY), dischargeDisposition: cc(DISCHARGED_HOME) } } : {}),
    location: [{ location: sharedRef('Location', visit.location.id), status: 'completed' }],
    serviceProvider: sharedRef('Organization', visit.location.org.id),
  };
  visit.ref = ctx.tx.add(encounter);
}

export function emitCondition(ctx: PatientContext, problem: Problem): void {
  const visit = ctx.visits[problem.visitIndex]!;
  const condition: Condition = {
    resourceType: 'Condition',
    clinicalStatus: cc(problem.abatement ? CONDITION_STATUS.resolved : CONDITION_STATUS.active),
    verificationStatus: cc(CONDITION_STATUS.confirmed),
    category: [cc(problem.chronic ? CONDITION_STATUS.problemList : CONDITION_STATUS.encounterDiagnosis)],
    code: cc(CONDITION[problem.key]),
    subject: ref(ctx.patientRef),
    encounter: ref(visit.ref!),
    onsetDateTime: fhirDateTime(problem.onset),
    ...(problem.abatement ? { abatementDateTime: fhirDateTime(problem.abatement) } : {}),
    recordedDate: fhirDateTime(problem.recorded),
    recorder: sharedRef('Practitioner', visit.staff.id),
  };
  problem.ref = ctx.tx.add(condition);
}

/** Recorded at the first visit. */
export function emitAllergies(ctx: PatientContext, visit: Visit): void {
  const { rng, person } = ctx;
  for (const allergen of person.allergies) {
    const manifestations = rng.sample(allergen.reactions, rng.int(1, 2));
    const anaphylactic = manifestations.includes(MANIFESTATION.anaphylaxis);
    const allergy: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: cc(ALLERGY_STATUS.active),
      verificationStatus: cc(rng.chance(0.9) ? ALLERGY_STATUS.confirmed : ALLERGY_STATUS.unconfirmed),
      type: allergen.type,
      category: [allergen.category],
      criticality: anaphylactic ? 'high' : rng.chance(0.8) ? 'low' : 'unable-to-assess',
      code: cc(allergen.code),
      patient: ref(ctx.patientRef),
      encounter: ref(visit.ref!),
      onsetDateTime: fhirDateTime(rng.date(person.birth, visit.start)),
      recordedDate: fhirDateTime(visit.start),
      recorder: sharedRef('Practitioner', visit.staff.id),
      reaction: [{ manifestation: manifestations.map((m) => cc(m)), severity: anaphylactic ? 'severe' : rng.chance(0.6) ? 'mild' : 'moderate' }],
    };
    ctx.tx.add(allergy);
  }
}

function observation(ctx: PatientContext, visit: Visit, category: Code, code: Code, effective: Date, rest: Partial<Observation>): string {
  const obs: Observation = {
    resourceType: 'Observation',
    status: 'final',
    category: [cc(category)],
    code: cc(code),
    subject: ref(ctx.patientRef),
    encounter: ref(visit.ref!),
    effectiveDateTime: fhirDateTime(effective),
    ...rest,
  };
  return ctx.tx.add(obs);
}

const MEASURED = { checkup: 0.95, followUp: 0.85, symptom: 0.8, emergency: 0.9, inpatient: 1 };

export function emitVitals(ctx: PatientContext, visit: Visit): void {
  const { rng } = ctx;
  if (!rng.chance(MEASURED[visit.kind])) return;
  const acute = visit.kind === 'emergency' || visit.kind === 'inpatient';
  const infection = ctx.problems.some((p) => !p.chronic && p.visitIndex === visit.index);
  const lungDisease = !!activeProblem(ctx, 'copd', visit.start) || (!!activeProblem(ctx, 'asthma', visit.start) && visit.kind !== 'checkup');
  const fever = infection && rng.chance(0.6);
  const v = measureVitals(rng, ctx.person.body, {
    age: visit.age,
    hypertension: treatment(ctx, 'hypertension', visit),
    atrialFibrillation: !!activeProblem(ctx, 'atrialFibrillation', visit.start),
    lungDisease,
    fever,
    acute,
  });
  const at = addMinutes(visit.start, 5);
  const vital = (def: VitalSign, value: number): void => {
    observation(ctx, visit, CATEGORY.vitalSigns, def.code, at, { valueQuantity: quantity(value, def.ucum) });
  };
  if (visit.age >= 3) {
    observation(ctx, visit, CATEGORY.vitalSigns, VITALS.bloodPressure.code, at, {
      component: [
        { code: cc(VITALS.systolic.code), valueQuantity: quantity(v.systolic, VITALS.systolic.ucum) },
        { code: cc(VITALS.diastolic.code), valueQuantity: quantity(v.diastolic, VITALS.diastolic.ucum) },
      ],
    });
  }
  vital(VITALS.heartRate, v.heartRate);
  if (acute || visit.age < 3) vital(VITALS.respiratoryRate, v.respiratoryRate);
  const sick = visit.kind === 'symptom' || acute;
  if (fever || sick || rng.chance(0.1)) vital(VITALS.temperature, v.temperature);
  if (visit.age < 18 || (visit.kind === 'checkup' && rng.chance(0.35))) vital(VITALS.height, v.height);
  if (visit.kind === 'checkup' || visit.age < 18 || rng.chance(0.6)) {
    vital(VITALS.weight, v.weight);
    if (visit.age >= 2) vital(VITALS.bmi, v.bmi);
  }
  if (acute || lungDisease) vital(VITALS.oxygenSaturation, v.oxygenSaturation);
}

function labPanelsFor(ctx: PatientContext, visit: Visit): LabPanel[] {
  const { rng } = ctx;
  const has = (key: Parameters<typeof activeProblem>[1]): boolean => !!activeProblem(ctx, key, visit.start);
  const panels: LabPanel[] = [];
  switch (visit.kind) {
    case 'checkup':
      if (visit.age < 18) {
        if (rng.chance(0.05)) panels.push(LAB_PANEL.bloodCount);
        break;
      }
      if (rng.chance(has('hyperlipidemia') ? 0.5 : visit.age >= 35 ? 0.2 : 0.05)) panels.push(LAB_PANEL.lipid);
      if (rng.chance(visit.age >= 40 || has('hypertension') || has('diabetes') || has('ckd') ? 0.12 : 0.04)) panels.push(LAB_PANEL.comprehensive);
      if (rng.chance(0.08)) panels.push(LAB_PANEL.bloodCount);
      if (has('diabetes') && rng.chance(0.6)) panels.push(LAB_PANEL.hba1c);
      break;
    case 'followUp':
      if (has('diabetes') && rng.chance(0.8)) panels.push(LAB_PANEL.hba1c);
      if ((has('ckd') && rng.chance(0.6)) || (has('hypertension') && rng.chance(0.15))) panels.push(LAB_PANEL.basic);
      if (has('hyperlipidemia') && rng.chance(0.2)) panels.push(LAB_PANEL.lipid);
      break;
    case 'symptom':
      if (rng.chance(0.05)) panels.push(LAB_PANEL.bloodCount);
      break;
    case 'emergency':
      if (rng.chance(0.25)) panels.push(LAB_PANEL.basic);
      if (rng.chance(0.2)) panels.push(LAB_PANEL.bloodCount);
      break;
    case 'inpatient':
      panels.push(LAB_PANEL.comprehensive);
      if (rng.chance(0.6)) panels.push(LAB_PANEL.bloodCount);
      break;
  }
  return panels;
}

export function emitLabs(ctx: PatientContext, visit: Visit): void {
  const { rng, person } = ctx;
  const state: LabState = {
    gender: person.gender,
    diabetes: treatment(ctx, 'diabetes', visit),
    hyperlipidemia: treatment(ctx, 'hyperlipidemia', visit),
    kidneyDisease: !!activeProblem(ctx, 'ckd', visit.start),
  };
  for (const panel of labPanelsFor(ctx, visit)) {
    const collected = addMinutes(visit.start, rng.int(10, 30));
    const issued = fhirDateTime(earlier(addMinutes(collected, rng.int(60, 30 * 60)), ctx.end));
    const results = panel.tests.map((test) => {
      const value = measureLab(rng, person.body, test, state);
      const range = referenceRange(test, person.gender);
      const flag = range.low !== undefined && value < range.low ? INTERPRETATION.low : range.high !== undefined && value > range.high ? INTERPRETATION.high : undefined;
      const bound = (x: number | undefined): Quantity | undefined => (x === undefined ? undefined : quantity(x, test.ucum));
      const low = bound(range.low);
      const high = bound(range.high);
      return ref(observation(ctx, visit, CATEGORY.laboratory, test.code, collected, {
        issued,
        valueQuantity: quantity(value, test.ucum),
        ...(flag ? { interpretation: [cc(flag)] } : {}),
        referenceRange: [{ ...(low ? { low } : {}), ...(high ? { high } : {}) }],
      }));
    });
    const report: DiagnosticReport = {
      resourceType: 'DiagnosticReport',
      status: 'final',
      category: [cc(CATEGORY.labReport)],
      code: cc(panel.code),
      subject: ref(ctx.patientRef),
      encounter: ref(visit.ref!),
      effectiveDateTime: fhirDateTime(collected),
      issued,
      performer: [sharedRef('Organization', visit.location.org.id)],
      result: results,
    };
    ctx.tx.add(report);
  }
}

function dosage(med: Medication): Dosage[] {
  return [{
    sequence: 1,
    text: med.text,
    timing: { repeat: { frequency: med.timesPerDay, period: 1, periodUnit: 'd' } },
    ...(med.asNeeded ? { asNeededBoolean: true } : {}),
    route: cc(med.route),
    doseAndRate: [{ type: cc(DOSE_ORDERED), doseQuantity: quantity(med.dose, `{${med.unit}}`, med.unit) }],
  }];
}

export function emitMedicationRequest(ctx: PatientContext, order: MedicationOrder): void {
  const { visit, medication: med } = order;
  const supplyDays = order.chronic ? 90 : med.days ?? 10;
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: order.status,
    intent: 'order',
    medicationCodeableConcept: cc(med.code),
    subject: ref(ctx.patientRef),
    encounter: ref(visit.ref!),
    authoredOn: fhirDateTime(earlier(addMinutes(visit.start, 15), visit.end)),
    requester: sharedRef('Practitioner', visit.staff.id),
    ...(order.reason ? { reasonReference: [ref(order.reason.ref!)] } : {}),
    dosageInstruction: dosage(med),
    dispenseRequest: { numberOfRepeatsAllowed: order.chronic ? 3 : 0, expectedSupplyDuration: quantity(supplyDays, 'd', 'days') },
  };
  ctx.tx.add(request);
}

interface PlannedProcedure { code: Code; minutes?: number; reason?: Problem }

function proceduresFor(ctx: PatientContext, visit: Visit): PlannedProcedure[] {
  const { rng, person } = ctx;
  const out: PlannedProcedure[] = [];
  const chronic = ctx.problems.some((p) => p.chronic && p.recorded.getTime() <= visit.start.getTime());
  switch (visit.kind) {
    case 'checkup':
      if (chronic && rng.chance(0.6)) out.push({ code: PROCEDURE.medicationReconciliation });
      if (visit.age >= 12 && rng.chance(0.35)) out.push({ code: PROCEDURE.depressionScreening });
      if (person.gender === 'female' && visit.age >= 50 && visit.age < 75 && rng.chance(0.3)) out.push({ code: PROCEDURE.mammography });
      if (visit.age >= 45 && visit.age < 76 && rng.chance(0.06)) out.push({ code: PROCEDURE.colonoscopy, minutes: rng.int(25, 50) });
      break;
    case 'followUp':
      if (visit.reason && (visit.reason.key === 'asthma' || visit.reason.key === 'copd') && rng.chance(0.5)) out.push({ code: PROCEDURE.spirometry, reason: visit.reason });
      break;
    case 'symptom':
      if (visit.reason?.key === 'strepThroat') out.push({ code: PROCEDURE.throatCulture, reason: visit.reason });
      break;
    case 'emergency':
    case 'inpatient': {
      const admitted = visit.kind === 'inpatient';
      if (visit.age >= 40 && rng.chance(admitted ? 0.7 : 0.4)) out.push({ code: PROCEDURE.electrocardiogram });
      if (rng.chance(admitted ? 0.5 : 0.25)) out.push({ code: PROCEDURE.chestXray, ...(visit.reason ? { reason: visit.reason } : {}) });
      if (!admitted && rng.chance(0.1)) out.push({ code: PROCEDURE.suture, minutes: rng.int(15, 40) });
      break;
    }
  }
  return out;
}

export function emitProcedures(ctx: PatientContext, visit: Visit): void {
  const { rng } = ctx;
  for (const planned of proceduresFor(ctx, visit)) {
    const start = earlier(addMinutes(visit.start, rng.int(5, 20)), visit.end);
    const performed = planned.minutes
      ? { performedPeriod: { start: fhirDateTime(start), end: fhirDateTime(addMinutes(start, planned.minutes)) } }
      : { performedDateTime: fhirDateTime(start) };
    const procedure: Procedure = {
      resourceType: 'Procedure',
      status: 'completed',
      code: cc(planned.code),
      subject: ref(ctx.patientRef),
      encounter: ref(visit.ref!),
      ...performed,
      performer: [{ actor: sharedRef('Practitioner', visit.staff.id) }],
      location: sharedRef('Location', visit.location.id),
      ...(planned.reason ? { reasonReference: [ref(planned.reason.ref!)] } : {}),
    };
    ctx.tx.add(procedure);
  }
}

/** Vaccines given so far (within the recorded history), to follow the schedules. */
export class ImmunizationHistory {
  readonly doses = new Map<Code, number>();
  lastFlu?: Date;

  count(vaccine: Code): number {
    return this.doses.get(vaccine) ?? 0;
  }
}

const FLU_SEASON_MONTHS = new Set([8, 9, 10, 11, 0, 1, 2]);
const COVID_VACCINE_FROM = Date.UTC(2021, 0, 1);

function vaccinesDue(ctx: PatientContext, visit: Visit, history: ImmunizationHistory): Code[] {
  const { rng } = ctx;
  const age = visit.age;
  const due: Code[] = [];
  const maybe = (vaccine: Code, maxDoses: number, p: number): void => {
    if (history.count(vaccine) < maxDoses && rng.chance(p)) due.push(vaccine);
  };
  const fluDue = !history.lastFlu || visit.start.getTime() - history.lastFlu.getTime() > 200 * DAY_MS;
  if (age >= 0.5 && fluDue && FLU_SEASON_MONTHS.has(visit.start.getUTCMonth())) maybe(VACCINE.influenza, Infinity, age >= 65 ? 0.75 : 0.5);
  if (visit.kind !== 'checkup') return due;
  if (age >= 12 && visit.start.getTime() >= COVID_VACCINE_FROM) maybe(VACCINE.covid19, 3, 0.3);
  if (age < 0.2) maybe(VACCINE.hepatitisB, 3, 0.9);
  if (age >= 0.15 && age < 1.6) {
    for (const v of [VACCINE.dtap, VACCINE.polio, VACCINE.hib, VACCINE.pneumococcal13, VACCINE.hepatitisB]) maybe(v, 3, 0.85);
  }
  if (age >= 1 && age < 2) for (const v of [VACCINE.mmr, VACCINE.varicella, VACCINE.hepatitisA]) maybe(v, 1, 0.85);
  if (age >= 4 && age < 7) for (const v of [VACCINE.dtap, VACCINE.polio, VACCINE.mmr, VACCINE.varicella]) maybe(v, 5, 0.8);
  if (age >= 11 && age < 13) for (const v of [VACCINE.tdap, VACCINE.hpv, VACCINE.meningococcal]) maybe(v, 1, 0.8);
  if (age >= 19) maybe(VACCINE.td, 1, 0.08);
  if (age >= 50) maybe(VACCINE.zoster, 2, 0.15);
  if (age >= 65) maybe(VACCINE.pneumococcal23, 1, 0.35);
  return due;
}

export function emitImmunizations(ctx: PatientContext, visit: Visit, history: ImmunizationHistory): void {
  if (visit.kind !== 'checkup' && visit.kind !== 'followUp') return;
  const { rng } = ctx;
  for (const vaccine of vaccinesDue(ctx, visit, history)) {
    history.doses.set(vaccine, history.count(vaccine) + 1);
    if (vaccine === VACCINE.influenza) history.lastFlu = visit.start;
    const immunization: Immunization = {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: cc(vaccine),
      patient: ref(ctx.patientRef),
      encounter: ref(visit.ref!),
      occurrenceDateTime: fhirDateTime(earlier(addMinutes(visit.start, rng.int(10, 30)), visit.end)),
      primarySource: true,
      location: sharedRef('Location', visit.location.id),
      lotNumber: `${String.fromCharCode(65 + rng.int(0, 25), 65 + rng.int(0, 25))}${rng.int(1000, 9999)}`,
      doseQuantity: quantity(vaccine === VACCINE.covid19 ? 0.3 : 0.5, 'mL'),
      performer: [{ actor: sharedRef('Practitioner', visit.staff.id) }],
    };
    ctx.tx.add(immunization);
  }
}
