// The point-of-care app's adverse-reaction check: a small, documented, rule-based screen of the patient's active
// medications against their allergies, conditions, each other and their weight. Every alert carries the evidence
// (the resources and values it fired on) and the source of its rule.
//
// THIS IS A SAMPLE, NOT A CLINICAL DECISION SUPPORT SYSTEM. The tables below are short on purpose, are not
// complete, and have not been clinically validated. Do not use them for patient care.
//
// Rules:
// 1. allergy-drug   a medication whose ingredient the patient is allergic or intolerant to.
// 2. allergy-class  a medication of the same class as the allergen (cross-reactivity: penicillins; NSAIDs, with
//                   aspirin); @see AAAAI/ACAAI Drug allergy practice parameter update, 2022 (Khan et al., J Allergy
//                   Clin Immunol 2022;150:1333).
// 3. nsaid-condition an NSAID with hypertension (NSAIDs raise blood pressure: 2017 ACC/AHA hypertension guideline,
//                   Table 12) or chronic kidney disease (avoid prolonged NSAIDs: KDIGO 2012 CKD guideline, 4.4).
// 4. interaction    two active medications from the interaction table below (each entry names its source).
// 5. dose-weight    a daily dose above the maximum for the patient's latest weight (or the adult maximum):
//                   acetaminophen 75 mg/kg/day and 4,000 mg/day; ibuprofen 40 mg/kg/day and 3,200 mg/day
//                   (@see FDA labeling; Lexicomp pediatric dosing).
import type { AllergyIntolerance, Condition, MedicationRequest, Observation } from 'fhir/r4.js';

export interface Alert {
  rule: 'allergy-drug' | 'allergy-class' | 'nsaid-condition' | 'interaction' | 'dose-weight';
  severity: 'high' | 'moderate';
  title: string;
  /** What the alert fired on, in words, with the resources' ids. */
  evidence: string[];
  source: string;
}

export interface PatientRecord {
  medications: MedicationRequest[];
  allergies: AllergyIntolerance[];
  conditions: Condition[];
  /** Body-weight Observations (LOINC 29463-7); the latest is used. */
  weights: Observation[];
}

/** Ingredient → class. Ingredients are matched as whole words in the medication's name. */
const CLASS_OF: Record<string, string> = {
  amoxicillin: 'penicillin', ampicillin: 'penicillin', penicillin: 'penicillin', dicloxacillin: 'penicillin', piperacillin: 'penicillin',
  ibuprofen: 'NSAID', naproxen: 'NSAID', diclofenac: 'NSAID', meloxicam: 'NSAID', ketorolac: 'NSAID', celecoxib: 'NSAID', aspirin: 'NSAID',
  sulfamethoxazole: 'sulfonamide antibiotic',
  lisinopril: 'ACE inhibitor', enalapril: 'ACE inhibitor', ramipril: 'ACE inhibitor',
  hydrochlorothiazide: 'diuretic', chlorthalidone: 'diuretic', furosemide: 'diuretic',
  warfarin: 'vitamin K antagonist',
  sertraline: 'SSRI', fluoxetine: 'SSRI', citalopram: 'SSRI', escitalopram: 'SSRI', paroxetine: 'SSRI',
  azithromycin: 'macrolide', clarithromycin: 'macrolide', erythromycin: 'macrolide',
};
/** Allergen words that name a whole class. */
const CLASS_ALLERGENS: Record<string, string> = { sulfonamide: 'sulfonamide antibiotic', nsaid: 'NSAID', penicillins: 'penicillin' };
/** Classes with known cross-reactivity within the class (rule 2). */
const CROSS_REACTIVE = new Set(['penicillin', 'NSAID', 'sulfonamide antibiotic']);

/** Pairs (ingredient or class) that interact. */
const INTERACTIONS: { a: string; b: string; title: string; source: string }[] = [
  { a: 'vitamin K antagonist', b: 'NSAID', title: 'Bleeding risk: warfarin with an NSAID', source: 'Warfarin (Coumadin) FDA label, 7 Drug Interactions; AGS Beers Criteria 2023' },
  { a: 'SSRI', b: 'NSAID', title: 'Gastrointestinal bleeding risk: an SSRI with an NSAID', source: 'AGS Beers Criteria 2023, Table 5' },
  { a: 'SSRI', b: 'vitamin K antagonist', title: 'Bleeding risk: an SSRI with warfarin', source: 'Warfarin (Coumadin) FDA label, 7 Drug Interactions' },
  { a: 'vitamin K antagonist', b: 'macrolide', title: 'INR may rise: warfarin with a macrolide antibiotic', source: 'Warfarin (Coumadin) FDA label, 7 Drug Interactions' },
];
/** The "triple whammy" (ACE inhibitor + diuretic + NSAID): acute kidney injury. @see Lapi et al., BMJ 2013;346:e8525. */
const TRIPLE_WHAMMY = ['ACE inhibitor', 'diuretic', 'NSAID'];

const DOSE_LIMITS: Record<string, { mgPerKgDay: number; mgPerDay: number; source: string }> = {
  acetaminophen: { mgPerKgDay: 75, mgPerDay: 4000, source: 'Acetaminophen FDA labeling (adult maximum 4 g/day); pediatric maximum 75 mg/kg/day' },
  ibuprofen: { mgPerKgDay: 40, mgPerDay: 3200, source: 'Ibuprofen FDA labeling (3,200 mg/day); pediatric maximum 40 mg/kg/day' },
};

const HYPERTENSION = ['38341003', 'I10'];
const CKD = ['709044004', '431855005', '433144002', 'N18.9'];

interface Drug {
  id: string;
  name: string;
  ingredient?: string;
  drugClass?: string;
  request: MedicationRequest;
}

const words = (text: string) => text.toLowerCase().split(/[^a-z]+/).filter(Boolean);
const nameOf = (cc: { text?: string; coding?: { display?: string; code?: string }[] } | undefined) => cc?.text ?? cc?.coding?.find((c) => c.display)?.display ?? cc?.coding?.[0]?.code ?? 'unnamed';

function drugOf(m: MedicationRequest): Drug {
  const name = m.medicationCodeableConcept ? nameOf(m.medicationCodeableConcept) : m.medicationReference?.display ?? 'unnamed medication';
  const ingredient = words(name).find((w) => CLASS_OF[w] !== undefined || DOSE_LIMITS[w] !== undefined);
  return { id: `MedicationRequest/${m.id ?? '?'}`, name, ingredient, drugClass: ingredient ? CLASS_OF[ingredient] : undefined, request: m };
}

function allergenOf(a: AllergyIntolerance): { ingredient?: string; drugClass?: string; name: string } {
  const name = nameOf(a.code);
  const ws = words(name);
  const ingredient = ws.find((w) => CLASS_OF[w] !== undefined);
  const drugClass = ingredient ? CLASS_OF[ingredient] : ws.map((w) => CLASS_ALLERGENS[w]).find(Boolean);
  return { ingredient, drugClass, name };
}

const isActive = (status: { coding?: { code?: string }[] } | undefined, ok: string[]) => {
  const code = status?.coding?.[0]?.code;
  return code === undefined || ok.includes(code);
};

function describeAllergy(a: AllergyIntolerance): string {
  const reactions = (a.reaction ?? []).flatMap((r) => (r.manifestation ?? []).map((m) => nameOf(m)));
  return `AllergyIntolerance/${a.id ?? '?'}: ${nameOf(a.code)} (${a.type ?? 'allergy'}${a.criticality ? `, criticality ${a.criticality}` : ''}${reactions.length ? `; reactions: ${reactions.join(', ')}` : ''})`;
}

const describeDrug = (d: Drug) => `${d.id}: ${d.name}${d.request.authoredOn ? ` (ordered ${d.request.authoredOn.slice(0, 10)})` : ''}`;

/** Milligrams per day of a tablet or capsule order: strength in the name × dose × times a day. */
function dailyDoseMg(d: Drug): number | undefined {
  const strength = /(\d+(?:\.\d+)?)\s*MG\b(?!\s*\/)/i.exec(d.name);
  const dosage = d.request.dosageInstruction?.[0];
  const dose = dosage?.doseAndRate?.[0]?.doseQuantity?.value;
  const repeat = dosage?.timing?.repeat;
  if (!strength || typeof dose !== 'number' || !repeat?.frequency) return undefined;
  const periodDays = (repeat.period ?? 1) * ({ h: 1 / 24, d: 1, wk: 7 } as Record<string, number>)[repeat.periodUnit ?? 'd']!;
  if (!Number.isFinite(periodDays) || periodDays <= 0) return undefined;
  return (Number(strength[1]) * dose * repeat.frequency) / periodDays;
}

function latestWeightKg(weights: Observation[]): { kg: number; id: string; when: string } | undefined {
  let best: { kg: number; id: string; when: string } | undefined;
  for (const o of weights) {
    const q = o.valueQuantity;
    const when = o.effectiveDateTime ?? '';
    const kg = q?.value === undefined ? undefined : q.code === 'kg' || q.unit === 'kg' ? q.value : q.code === '[lb_av]' || q.unit === 'lb' ? q.value * 0.45359237 : undefined;
    if (kg !== undefined && (!best || when > best.when)) best = { kg, id: `Observation/${o.id ?? '?'}`, when };
  }
  return best;
}

export function adverseReactionAlerts(record: PatientRecord): Alert[] {
  const drugs = record.medications.filter((m) => m.status === 'active').map(drugOf);
  const allergies = record.allergies.filter((a) => isActive(a.clinicalStatus, ['active']) && isActive(a.verificationStatus, ['confirmed', 'unconfirmed', 'presumed']));
  const conditions = record.conditions.filter((c) => isActive(c.clinicalStatus, ['active', 'recurrence', 'relapse']));
  const alerts: Alert[] = [];

  for (const a of allergies) {
    const allergen = allergenOf(a);
    for (const d of drugs) {
      if (allergen.ingredient && d.ingredient === allergen.ingredient) {
        alerts.push({ rule: 'allergy-drug', severity: 'high', title: `${d.name}: the patient has a recorded ${a.type ?? 'allergy'} to ${allergen.name}`, evidence: [describeAllergy(a), describeDrug(d)], source: 'The patient\'s own allergy list' });
      } else if (allergen.drugClass && d.drugClass === allergen.drugClass && CROSS_REACTIVE.has(d.drugClass)) {
        alerts.push({ rule: 'allergy-class', severity: a.criticality === 'high' || a.type !== 'intolerance' ? 'high' : 'moderate', title: `${d.name} is a ${d.drugClass}, the class of the recorded ${a.type ?? 'allergy'} to ${allergen.name}`, evidence: [describeAllergy(a), describeDrug(d)], source: 'AAAAI/ACAAI Drug allergy practice parameter update, 2022' });
      }
    }
  }

  for (const d of drugs.filter((x) => x.drugClass === 'NSAID')) {
    for (const c of conditions) {
      const codes = (c.code?.coding ?? []).map((x) => x.code ?? '');
      const which = codes.some((x) => HYPERTENSION.includes(x)) ? 'hypertension' : codes.some((x) => CKD.includes(x)) ? 'chronic kidney disease' : undefined;
      if (!which) continue;
      alerts.push({
        rule: 'nsaid-condition', severity: 'moderate', title: `${d.name} with ${which}`,
        evidence: [describeDrug(d), `Condition/${c.id ?? '?'}: ${nameOf(c.code)}`],
        source: which === 'hypertension' ? '2017 ACC/AHA hypertension guideline, Table 12 (drugs that raise blood pressure)' : 'KDIGO 2012 CKD guideline, 4.4 (avoid prolonged NSAIDs)',
      });
    }
  }

  const has = (d: Drug, name: string) => d.ingredient === name || d.drugClass === name;
  for (const rule of INTERACTIONS) {
    for (const x of drugs.filter((d) => has(d, rule.a))) {
      for (const y of drugs.filter((d) => has(d, rule.b) && d !== x)) {
        alerts.push({ rule: 'interaction', severity: 'high', title: rule.title, evidence: [describeDrug(x), describeDrug(y)], source: rule.source });
      }
    }
  }
  const triple = TRIPLE_WHAMMY.map((cls) => drugs.find((d) => d.drugClass === cls));
  if (triple.every(Boolean)) {
    alerts.push({ rule: 'interaction', severity: 'high', title: 'Acute kidney injury risk: an ACE inhibitor, a diuretic and an NSAID together ("triple whammy")', evidence: triple.map((d) => describeDrug(d!)), source: 'Lapi et al., BMJ 2013;346:e8525' });
  }

  const weight = latestWeightKg(record.weights);
  for (const d of drugs) {
    const limit = d.ingredient ? DOSE_LIMITS[d.ingredient] : undefined;
    const mg = limit && dailyDoseMg(d);
    if (!limit || mg === undefined) continue;
    const max = weight ? Math.min(limit.mgPerDay, limit.mgPerKgDay * weight.kg) : limit.mgPerDay;
    if (mg <= max) continue;
    alerts.push({
      rule: 'dose-weight', severity: 'high', title: `${d.name}: ${Math.round(mg)} mg a day is above the maximum of ${Math.round(max)} mg a day`,
      evidence: [describeDrug(d), weight ? `${weight.id}: ${weight.kg.toFixed(1)} kg on ${weight.when.slice(0, 10)} (${limit.mgPerKgDay} mg/kg/day)` : `no weight recorded: the adult maximum of ${limit.mgPerDay} mg/day applies`],
      source: limit.source,
    });
  }
  return alerts;
}
