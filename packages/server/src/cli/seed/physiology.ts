// A small physiological model so a patient's measurements are plausible and consistent over time:
// latent per-patient traits (adult height, build, blood-pressure and heart-rate tendencies, personal
// lab set points) plus age curves, condition effects and per-measurement noise.
import { clamp, round } from './model.ts';
import type { Rng } from './random.ts';
import { LAB, type LabTest } from './vocabulary.ts';

export interface Body {
  adultHeight: number;
  bmiZ: number;
  /** Multiplicative weight drift; a slow random walk advanced at each weighing. */
  drift: number;
  bpZ: number;
  hrZ: number;
  /** Personal set point (z-score) per LOINC code, drawn on first use. */
  labZ: Map<string, number>;
}

export function createBody(rng: Rng, gender: 'male' | 'female'): Body {
  return {
    adultHeight: gender === 'male' ? rng.normal(176, 7) : rng.normal(163, 6.5),
    bmiZ: clamp(rng.normal(0, 1), -2, 3),
    drift: 1,
    bpZ: rng.normal(0, 1),
    hrZ: rng.normal(0, 1),
    labZ: new Map(),
  };
}

type Curve = readonly (readonly [number, number])[];

function interpolate(curve: Curve, x: number): number {
  if (x <= curve[0]![0]) return curve[0]![1];
  for (let i = 1; i < curve.length; i++) {
    const [x1, y1] = curve[i]!;
    if (x <= x1) {
      const [x0, y0] = curve[i - 1]!;
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return curve[curve.length - 1]![1];
}

/** Fraction of adult height reached, by age in years. */
const GROWTH: Curve = [[0, 0.29], [1, 0.43], [2, 0.5], [4, 0.59], [6, 0.67], [8, 0.74], [10, 0.8], [12, 0.86], [14, 0.93], [16, 0.98], [18, 1]];
/** Median BMI by age in years (children from growth charts; adults drift upward into middle age). */
const BMI_MEDIAN: Curve = [[0, 13.4], [0.5, 17.2], [1, 17], [2, 16.4], [4, 15.6], [6, 15.4], [8, 15.9], [10, 16.9], [12, 18], [14, 19.3], [16, 20.5], [18, 21.5], [30, 25.5], [50, 27.5], [70, 27.5], [95, 24.5]];
const HEART_RATE: Curve = [[0, 130], [1, 118], [3, 105], [6, 92], [12, 82], [18, 73]];
const RESPIRATORY_RATE: Curve = [[0, 36], [1, 30], [3, 25], [6, 21], [12, 18], [18, 15]];

function heightAt(body: Body, age: number): number {
  return body.adultHeight * interpolate(GROWTH, age) - Math.max(0, age - 60) * 0.12;
}

/** The patient's BMI at an age, without the weight drift: used to decide obesity. */
export function baseBmiAt(body: Body, age: number): number {
  return interpolate(BMI_MEDIAN, age) * (1 + 0.16 * body.bmiZ);
}

export type Treatment = 'none' | 'untreated' | 'treated';

export interface VitalState {
  age: number;
  hypertension: Treatment;
  atrialFibrillation: boolean;
  lungDisease: boolean;
  fever: boolean;
  /** Emergency or inpatient: some stress tachycardia. */
  acute: boolean;
}

export interface VitalValues {
  systolic: number;
  diastolic: number;
  heartRate: number;
  respiratoryRate: number;
  temperature: number;
  height: number;
  weight: number;
  bmi: number;
  oxygenSaturation: number;
}

/** One set of measurements; advances the weight drift. */
export function measureVitals(rng: Rng, body: Body, s: VitalState): VitalValues {
  body.drift = clamp(body.drift * (1 + rng.normal(0, 0.012)), 0.85, 1.15);
  const heightCm = heightAt(body, s.age) + rng.normal(0, 0.3);
  const weight = round(baseBmiAt(body, s.age) * body.drift * (heightCm / 100) ** 2 + rng.normal(0, 0.2), 1);
  const bmi = round(weight / (heightCm / 100) ** 2, 1);

  const adult = s.age >= 18;
  const htnShift = s.hypertension === 'untreated' ? 24 : s.hypertension === 'treated' ? 9 : 0;
  let systolic = adult ? 112 + 0.35 * Math.max(0, s.age - 30) + 6 * body.bpZ + htnShift : 88 + 1.4 * s.age + 4 * body.bpZ;
  let diastolic = adult ? 72 + 0.12 * Math.max(0, s.age - 30) - 0.2 * Math.max(0, s.age - 65) + 4 * body.bpZ + htnShift / 2 : 52 + 0.9 * s.age + 3 * body.bpZ;
  systolic = Math.round(systolic + rng.normal(0, 5) + (s.acute ? 6 : 0));
  diastolic = Math.round(Math.min(diastolic + rng.normal(0, 4), systolic - 25));

  const hrBase = interpolate(HEART_RATE, s.age) + 7 * body.hrZ + (s.fever ? 12 : 0) + (s.acute ? 8 : 0) + (s.atrialFibrillation ? 14 : 0);
  const heartRate = Math.round(hrBase + rng.normal(0, s.atrialFibrillation ? 12 : 4));
  const respiratoryRate = Math.round(interpolate(RESPIRATORY_RATE, s.age) + (s.lungDisease ? 3 : 0) + (s.fever ? 2 : 0) + rng.normal(0, 1.2));
  const temperature = round(s.fever ? rng.float(38.0, 39.4) : rng.normal(36.8, 0.2), 1);
  const oxygenSaturation = Math.round(clamp(rng.normal(s.lungDisease ? 93.5 : 98, 1), 85, 100));

  return { systolic, diastolic, heartRate, respiratoryRate, temperature, height: round(heightCm, 1), weight, bmi, oxygenSaturation };
}

export interface LabState {
  gender: 'male' | 'female';
  diabetes: Treatment;
  hyperlipidemia: Treatment;
  kidneyDisease: boolean;
}

/** The reference range that applies to this patient. */
export function referenceRange(test: LabTest, gender: 'male' | 'female'): { low?: number; high?: number } {
  return gender === 'female' && test.female ? test.female : { low: test.low, high: test.high };
}

/** One lab result: personal set point + noise, shifted by the patient's conditions. */
export function measureLab(rng: Rng, body: Body, test: LabTest, s: LabState): number {
  let z = body.labZ.get(test.code.code);
  if (z === undefined) {
    z = clamp(rng.normal(0, 1), -2.5, 2.5);
    body.labZ.set(test.code.code, z);
  }
  let mean = test.mean;
  if (s.gender === 'female' && test.female) mean += (test.female.low + test.female.high - (test.low! + test.high!)) / 2;
  let v = mean + test.sd * (0.75 * z + 0.6 * rng.normal(0, 1));

  const step = (t: Treatment, untreated: number, treated: number): number => (t === 'untreated' ? untreated : t === 'treated' ? treated : 0);
  if (test === LAB.glucose || test === LAB.bloodGlucose) v += step(s.diabetes, 85, 40);
  if (test === LAB.hba1c) v += step(s.diabetes, 3.0, 1.9);
  if (test === LAB.cholesterol) v += step(s.hyperlipidemia, 60, 12);
  if (test === LAB.ldl) v += step(s.hyperlipidemia, 55, 8);
  if (test === LAB.triglycerides) v *= 1 + step(s.hyperlipidemia, 0.5, 0.15);
  if (test === LAB.hdl && (s.diabetes !== 'none' || s.hyperlipidemia !== 'none')) v -= 6;
  if (s.kidneyDisease) {
    if (test === LAB.creatinine || test === LAB.bloodCreatinine) v *= 1.9;
    if (test === LAB.urea || test === LAB.bloodUrea) v *= 1.8;
    if (test === LAB.potassium || test === LAB.bloodPotassium) v += 0.4;
    if (test === LAB.hemoglobin || test === LAB.hematocrit) v *= 0.88;
  }
  return round(Math.max(v, test.sd / 2), test.decimals);
}
