// Code tables for the synthetic-patient generator: real codes, each with its FHIR system URL.
// LOINC, SNOMED CT, RxNorm, CVX and UCUM codes; HL7 terminology.hl7.org code systems for the rest.

export interface Code { system: string; code: string; display: string }

export const SYSTEM = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  cvx: 'http://hl7.org/fhir/sid/cvx',
  ucum: 'http://unitsofmeasure.org',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  ssn: 'http://hl7.org/fhir/sid/us-ssn',
  mrn: 'urn:firekeeper:mrn',
  org: 'urn:firekeeper:org',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  diagnosticService: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  maritalStatus: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  admitSource: 'http://terminology.hl7.org/CodeSystem/admit-source',
  dischargeDisposition: 'http://terminology.hl7.org/CodeSystem/discharge-disposition',
  doseRateType: 'http://terminology.hl7.org/CodeSystem/dose-rate-type',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  roleCode: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
  locationPhysicalType: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
  practitionerRole: 'http://terminology.hl7.org/CodeSystem/practitioner-role',
  degree: 'http://terminology.hl7.org/CodeSystem/v2-0360',
} as const;

const code = (system: string) => (c: string, display: string): Code => ({ system, code: c, display });
const loinc = code(SYSTEM.loinc);
const snomed = code(SYSTEM.snomed);
const rxnorm = code(SYSTEM.rxnorm);
const cvx = code(SYSTEM.cvx);

// ---------------------------------------------------------------- people and places

export const GIVEN_NAMES = {
  male: [
    'James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas', 'Charles',
    'Daniel', 'Matthew', 'Anthony', 'Mark', 'Steven', 'Paul', 'Andrew', 'Joshua', 'Kevin', 'Brian',
    'Ethan', 'Noah', 'Liam', 'Lucas', 'Samuel', 'Wei', 'Hiroshi', 'Omar', 'Kwame', 'Ravi',
    'George', 'Edward', 'Henry', 'Jacob', 'Aaron', 'Carlos', 'Diego', 'Luis', 'Mateo', 'Ahmed',
    'Benjamin', 'Jonathan', 'Nathan', 'Tyler', 'Oscar',
    'José', 'Andrés', 'Jesús', 'Joaquín', 'André', 'Jürgen', 'Søren',
  ],
  female: [
    'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen',
    'Nancy', 'Lisa', 'Margaret', 'Emily', 'Michelle', 'Laura', 'Olivia', 'Emma', 'Ava', 'Grace',
    'Mei', 'Yuki', 'Aisha', 'Priya', 'Amara', 'Hannah', 'Rachel', 'Ana', 'Isabel', 'Camila',
    'Julia', 'Rebecca', 'Victoria', 'Natalie', 'Abigail', 'Valentina', 'Gabriela', 'Fatima', 'Leah', 'Ruth',
    'Alice', 'Claire', 'Diana', 'Helen', 'Nora',
    'María', 'Sofía', 'Inés', 'Lucía', 'Zoë', 'Chloé', 'Renée',
  ],
} as const;

export const FAMILY_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor',
  'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis',
  'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Hill', 'Green', 'Adams',
  'Nelson', 'Baker', 'Campbell', 'Mitchell', 'Roberts', 'Carter', 'Nguyen', 'Kim', 'Patel', 'Chen',
  "O'Brien", 'Kowalski', 'Okafor', 'Rivera', 'Torres', 'Flores', 'Cohen', 'Yamamoto', 'Singh', 'Murphy',
  'Evans', 'Collins', 'Stewart', 'Morris', 'Reed', 'Cook', 'Morgan', 'Bell', 'Cooper', 'Howard',
  'Ward', 'Cox', 'Diaz', 'Richardson', 'Wood', 'Watson', 'Brooks', 'Bennett', 'Gray', 'James',
  'Reyes', 'Cruz', 'Hughes', 'Price', 'Myers', 'Long', 'Foster', 'Sanders', 'Ross', 'Morales',
  'Powell', 'Sullivan', 'Russell', 'Ortiz', 'Jenkins', 'Gutierrez', 'Perry', 'Butler', 'Barnes', 'Fisher',
  'García', 'Rodríguez', 'Martínez', 'Hernández', 'López', 'González', 'Pérez', 'Sánchez', 'Acuña', 'Peña',
  'Ibáñez', 'Müller', 'Schröder', 'Lefèvre', 'Dubois-Côté',
] as const;

export interface City { city: string; state: string; postalCode: string; areaCode: string }

export const CITIES: readonly City[] = [
  { city: 'Boston', state: 'MA', postalCode: '02118', areaCode: '617' },
  { city: 'Worcester', state: 'MA', postalCode: '01608', areaCode: '508' },
  { city: 'Springfield', state: 'IL', postalCode: '62701', areaCode: '217' },
  { city: 'Austin', state: 'TX', postalCode: '78701', areaCode: '512' },
  { city: 'San Antonio', state: 'TX', postalCode: '78205', areaCode: '210' },
  { city: 'Denver', state: 'CO', postalCode: '80202', areaCode: '303' },
  { city: 'Seattle', state: 'WA', postalCode: '98101', areaCode: '206' },
  { city: 'Portland', state: 'OR', postalCode: '97204', areaCode: '503' },
  { city: 'Madison', state: 'WI', postalCode: '53703', areaCode: '608' },
  { city: 'Columbus', state: 'OH', postalCode: '43215', areaCode: '614' },
  { city: 'Atlanta', state: 'GA', postalCode: '30303', areaCode: '404' },
  { city: 'Phoenix', state: 'AZ', postalCode: '85004', areaCode: '602' },
  { city: 'Albuquerque', state: 'NM', postalCode: '87102', areaCode: '505' },
  { city: 'Nashville', state: 'TN', postalCode: '37203', areaCode: '615' },
  { city: 'Minneapolis', state: 'MN', postalCode: '55401', areaCode: '612' },
  { city: 'Raleigh', state: 'NC', postalCode: '27601', areaCode: '919' },
  { city: 'Sacramento', state: 'CA', postalCode: '95814', areaCode: '916' },
  { city: 'Los Angeles', state: 'CA', postalCode: '90012', areaCode: '213' },
  { city: 'Salt Lake City', state: 'UT', postalCode: '84101', areaCode: '801' },
  { city: 'Burlington', state: 'VT', postalCode: '05401', areaCode: '802' },
  { city: 'Providence', state: 'RI', postalCode: '02903', areaCode: '401' },
  { city: 'Omaha', state: 'NE', postalCode: '68102', areaCode: '402' },
  { city: 'Richmond', state: 'VA', postalCode: '23219', areaCode: '804' },
  { city: 'Miami', state: 'FL', postalCode: '33130', areaCode: '305' },
  { city: 'Santa Fe', state: 'NM', postalCode: '87501', areaCode: '505' },
];

export const STREETS = [
  'Main Street', 'Oak Avenue', 'Maple Drive', 'Cedar Lane', 'Elm Street', 'Pine Road', 'Washington Avenue',
  'Lakeview Drive', 'Park Place', 'Hillcrest Road', 'River Road', 'Sunset Boulevard', 'Church Street',
  'Highland Avenue', 'Calle Ocho', 'Avenida del Sol', 'Mill Pond Way', 'Orchard Court', 'Chestnut Street',
] as const;

export const IDENTIFIER_TYPE = {
  medicalRecord: code(SYSTEM.identifierType)('MR', 'Medical Record Number'),
  socialSecurity: code(SYSTEM.identifierType)('SS', 'Social Security number'),
};

export const MARITAL_STATUS = {
  married: code(SYSTEM.maritalStatus)('M', 'Married'),
  neverMarried: code(SYSTEM.maritalStatus)('S', 'Never Married'),
  divorced: code(SYSTEM.maritalStatus)('D', 'Divorced'),
  widowed: code(SYSTEM.maritalStatus)('W', 'Widowed'),
};

// ---------------------------------------------------------------- encounters

export const ENCOUNTER_CLASS = {
  ambulatory: code(SYSTEM.actCode)('AMB', 'ambulatory'),
  emergency: code(SYSTEM.actCode)('EMER', 'emergency'),
  inpatient: code(SYSTEM.actCode)('IMP', 'inpatient encounter'),
};

export const ENCOUNTER_TYPE = {
  checkup: snomed('185349003', 'Encounter for check up (procedure)'),
  wellChild: snomed('410620009', 'Well child visit (procedure)'),
  followUp: snomed('390906007', 'Follow-up encounter (procedure)'),
  symptom: snomed('185345009', 'Encounter for symptom (procedure)'),
  emergency: snomed('50849002', 'Emergency room admission (procedure)'),
  admission: snomed('183452005', 'Emergency hospital admission (procedure)'),
};

export const PARTICIPATION = {
  primaryPerformer: code(SYSTEM.participationType)('PPRF', 'primary performer'),
  attender: code(SYSTEM.participationType)('ATND', 'attender'),
};

export const ADMIT_FROM_EMERGENCY = code(SYSTEM.admitSource)('emd', 'From accident/emergency department');
export const DISCHARGED_HOME = code(SYSTEM.dischargeDisposition)('home', 'Home');

// ---------------------------------------------------------------- observations

export const CATEGORY = {
  vitalSigns: code(SYSTEM.observationCategory)('vital-signs', 'Vital Signs'),
  laboratory: code(SYSTEM.observationCategory)('laboratory', 'Laboratory'),
  labReport: code(SYSTEM.diagnosticService)('LAB', 'Laboratory'),
};

export const INTERPRETATION = {
  high: code(SYSTEM.interpretation)('H', 'High'),
  low: code(SYSTEM.interpretation)('L', 'Low'),
};

export interface VitalSign { code: Code; ucum: string }

export const VITALS = {
  bloodPressure: { code: loinc('85354-9', 'Blood pressure panel with all children optional'), ucum: 'mm[Hg]' },
  systolic: { code: loinc('8480-6', 'Systolic blood pressure'), ucum: 'mm[Hg]' },
  diastolic: { code: loinc('8462-4', 'Diastolic blood pressure'), ucum: 'mm[Hg]' },
  heartRate: { code: loinc('8867-4', 'Heart rate'), ucum: '/min' },
  respiratoryRate: { code: loinc('9279-1', 'Respiratory rate'), ucum: '/min' },
  temperature: { code: loinc('8310-5', 'Body temperature'), ucum: 'Cel' },
  weight: { code: loinc('29463-7', 'Body weight'), ucum: 'kg' },
  height: { code: loinc('8302-2', 'Body height'), ucum: 'cm' },
  bmi: { code: loinc('39156-5', 'Body mass index (BMI) [Ratio]'), ucum: 'kg/m2' },
  oxygenSaturation: { code: loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'), ucum: '%' },
} satisfies Record<string, VitalSign>;

/** A laboratory test: reference range (adult; `female` where it differs by sex) and a typical healthy value. */
export interface LabTest {
  code: Code;
  ucum: string;
  decimals: number;
  low?: number;
  high?: number;
  female?: { low: number; high: number };
  mean: number;
  sd: number;
}

const lab = (c: string, display: string, ucum: string, decimals: number, range: Pick<LabTest, 'low' | 'high' | 'female'>, mean: number, sd: number): LabTest =>
  ({ code: loinc(c, display), ucum, decimals, ...range, mean, sd });

export const LAB = {
  glucose: lab('2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'mg/dL', 0, { low: 70, high: 99 }, 88, 8),
  urea: lab('3094-0', 'Urea nitrogen [Mass/volume] in Serum or Plasma', 'mg/dL', 0, { low: 7, high: 20 }, 14, 3),
  creatinine: lab('2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'mg/dL', 2, { low: 0.74, high: 1.35, female: { low: 0.59, high: 1.04 } }, 1.0, 0.14),
  sodium: lab('2951-2', 'Sodium [Moles/volume] in Serum or Plasma', 'mmol/L', 0, { low: 136, high: 145 }, 140, 2),
  potassium: lab('2823-3', 'Potassium [Moles/volume] in Serum or Plasma', 'mmol/L', 1, { low: 3.5, high: 5.1 }, 4.2, 0.3),
  chloride: lab('2075-0', 'Chloride [Moles/volume] in Serum or Plasma', 'mmol/L', 0, { low: 98, high: 107 }, 102, 2),
  calcium: lab('17861-6', 'Calcium [Mass/volume] in Serum or Plasma', 'mg/dL', 1, { low: 8.6, high: 10.3 }, 9.4, 0.35),
  alt: lab('1742-6', 'Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 0, { low: 7, high: 56 }, 24, 9),
  ast: lab('1920-8', 'Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma', 'U/L', 0, { low: 10, high: 40 }, 22, 6),
  albumin: lab('1751-7', 'Albumin [Mass/volume] in Serum or Plasma', 'g/dL', 1, { low: 3.5, high: 5.0 }, 4.3, 0.3),
  bloodGlucose: lab('2339-0', 'Glucose [Mass/volume] in Blood', 'mg/dL', 0, { low: 70, high: 99 }, 88, 8),
  bloodUrea: lab('6299-2', 'Urea nitrogen [Mass/volume] in Blood', 'mg/dL', 0, { low: 7, high: 20 }, 14, 3),
  bloodCreatinine: lab('38483-4', 'Creatinine [Mass/volume] in Blood', 'mg/dL', 2, { low: 0.74, high: 1.35, female: { low: 0.59, high: 1.04 } }, 1.0, 0.14),
  bloodSodium: lab('2947-0', 'Sodium [Moles/volume] in Blood', 'mmol/L', 0, { low: 136, high: 145 }, 140, 2),
  bloodPotassium: lab('6298-4', 'Potassium [Moles/volume] in Blood', 'mmol/L', 1, { low: 3.5, high: 5.1 }, 4.2, 0.3),
  bloodChloride: lab('2069-3', 'Chloride [Moles/volume] in Blood', 'mmol/L', 0, { low: 98, high: 107 }, 102, 2),
  bloodCalcium: lab('49765-1', 'Calcium [Mass/volume] in Blood', 'mg/dL', 1, { low: 8.6, high: 10.3 }, 9.4, 0.35),
  cholesterol: lab('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', 0, { high: 200 }, 185, 25),
  triglycerides: lab('2571-8', 'Triglyceride [Mass/volume] in Serum or Plasma', 'mg/dL', 0, { high: 150 }, 120, 35),
  hdl: lab('2085-9', 'Cholesterol in HDL [Mass/volume] in Serum or Plasma', 'mg/dL', 0, { low: 40 }, 52, 10),
  ldl: lab('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'mg/dL', 0, { high: 100 }, 105, 22),
  hemoglobin: lab('718-7', 'Hemoglobin [Mass/volume] in Blood', 'g/dL', 1, { low: 13.5, high: 17.5, female: { low: 12.0, high: 15.5 } }, 15.2, 0.9),
  hematocrit: lab('4544-3', 'Hematocrit [Volume Fraction] of Blood by Automated count', '%', 1, { low: 41, high: 53, female: { low: 36, high: 46 } }, 45, 2.5),
  leukocytes: lab('6690-2', 'Leukocytes [#/volume] in Blood by Automated count', '10*3/uL', 1, { low: 4.5, high: 11.0 }, 7.0, 1.5),
  platelets: lab('777-3', 'Platelets [#/volume] in Blood by Automated count', '10*3/uL', 0, { low: 150, high: 400 }, 260, 50),
  hba1c: lab('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', '%', 1, { low: 4.0, high: 5.6 }, 5.2, 0.3),
} satisfies Record<string, LabTest>;

export interface LabPanel { code: Code; tests: readonly LabTest[] }

export const LAB_PANEL = {
  comprehensive: { code: loinc('24323-8', 'Comprehensive metabolic 2000 panel - Serum or Plasma'), tests: [LAB.glucose, LAB.urea, LAB.creatinine, LAB.sodium, LAB.potassium, LAB.chloride, LAB.calcium, LAB.alt, LAB.ast, LAB.albumin] },
  basic: { code: loinc('51990-0', 'Basic metabolic panel - Blood'), tests: [LAB.bloodGlucose, LAB.bloodUrea, LAB.bloodCreatinine, LAB.bloodSodium, LAB.bloodPotassium, LAB.bloodChloride, LAB.bloodCalcium] },
  lipid: { code: loinc('57698-3', 'Lipid panel with direct LDL - Serum or Plasma'), tests: [LAB.cholesterol, LAB.triglycerides, LAB.hdl, LAB.ldl] },
  bloodCount: { code: loinc('58410-2', 'CBC panel - Blood by Automated count'), tests: [LAB.hemoglobin, LAB.hematocrit, LAB.leukocytes, LAB.platelets] },
  hba1c: { code: LAB.hba1c.code, tests: [LAB.hba1c] },
} satisfies Record<string, LabPanel>;

// ---------------------------------------------------------------- conditions (SNOMED CT)

export const CONDITION = {
  hypertension: snomed('38341003', 'Hypertensive disorder, systemic arterial (disorder)'),
  diabetes: snomed('44054006', 'Diabetes mellitus type 2 (disorder)'),
  hyperlipidemia: snomed('55822004', 'Hyperlipidemia (disorder)'),
  asthma: snomed('195967001', 'Asthma (disorder)'),
  copd: snomed('13645005', 'Chronic obstructive lung disease (disorder)'),
  ckd: snomed('709044004', 'Chronic kidney disease (disorder)'),
  osteoarthritis: snomed('396275006', 'Osteoarthritis (disorder)'),
  atrialFibrillation: snomed('49436004', 'Atrial fibrillation (disorder)'),
  depression: snomed('35489007', 'Depressive disorder (disorder)'),
  hypothyroidism: snomed('40930008', 'Hypothyroidism (disorder)'),
  obesity: snomed('414916001', 'Obesity (disorder)'),
  sinusitis: snomed('444814009', 'Viral sinusitis (disorder)'),
  bronchitis: snomed('10509002', 'Acute bronchitis (disorder)'),
  strepThroat: snomed('43878008', 'Streptococcal sore throat (disorder)'),
  otitisMedia: snomed('65363002', 'Otitis media (disorder)'),
};

export const CONDITION_STATUS = {
  active: code(SYSTEM.conditionClinical)('active', 'Active'),
  resolved: code(SYSTEM.conditionClinical)('resolved', 'Resolved'),
  confirmed: code(SYSTEM.conditionVerification)('confirmed', 'Confirmed'),
  problemList: code(SYSTEM.conditionCategory)('problem-list-item', 'Problem List Item'),
  encounterDiagnosis: code(SYSTEM.conditionCategory)('encounter-diagnosis', 'Encounter Diagnosis'),
};

// ---------------------------------------------------------------- medications (RxNorm SCD)

export const ROUTE = {
  oral: snomed('26643006', 'Oral route (qualifier value)'),
  inhalation: snomed('447694001', 'Respiratory tract route (qualifier value)'),
};

export const DOSE_ORDERED = code(SYSTEM.doseRateType)('ordered', 'Ordered');

export interface Medication {
  code: Code;
  /** UCUM annotation for one dose unit, e.g. {tablet}. */
  unit: 'tablet' | 'capsule' | 'puff';
  route: Code;
  dose: number;
  timesPerDay: number;
  asNeeded?: boolean;
  /** Length of a course for short-term medications; chronic ones are dispensed for 90 days. */
  days?: number;
  text: string;
}

export const MEDICATION = {
  lisinopril: { code: rxnorm('314076', 'lisinopril 10 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth once daily' },
  amlodipine: { code: rxnorm('197361', 'amlodipine 5 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth once daily' },
  hydrochlorothiazide: { code: rxnorm('310798', 'hydrochlorothiazide 25 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth every morning' },
  metformin: { code: rxnorm('860975', '24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 2, text: 'Take 1 tablet by mouth twice daily with meals' },
  atorvastatin: { code: rxnorm('617312', 'atorvastatin 10 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth once daily at bedtime' },
  albuterol: { code: rxnorm('745679', '200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'), unit: 'puff', route: ROUTE.inhalation, dose: 2, timesPerDay: 4, asNeeded: true, text: 'Inhale 2 puffs every 4 to 6 hours as needed for wheezing or shortness of breath' },
  fluticasone: { code: rxnorm('895994', '120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler'), unit: 'puff', route: ROUTE.inhalation, dose: 2, timesPerDay: 2, text: 'Inhale 2 puffs twice daily; rinse mouth after use' },
  warfarin: { code: rxnorm('855332', 'warfarin sodium 5 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth once daily in the evening, or as directed by the anticoagulation clinic' },
  levothyroxine: { code: rxnorm('966222', 'levothyroxine sodium 0.075 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth every morning on an empty stomach' },
  sertraline: { code: rxnorm('312941', 'sertraline 50 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, text: 'Take 1 tablet by mouth once daily' },
  acetaminophen: { code: rxnorm('313782', 'acetaminophen 325 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 2, timesPerDay: 4, asNeeded: true, days: 10, text: 'Take 2 tablets by mouth every 6 hours as needed for pain' },
  ibuprofen: { code: rxnorm('197806', 'ibuprofen 600 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 3, asNeeded: true, days: 7, text: 'Take 1 tablet by mouth every 8 hours as needed for pain, with food' },
  amoxicillin: { code: rxnorm('308182', 'amoxicillin 250 MG Oral Capsule'), unit: 'capsule', route: ROUTE.oral, dose: 2, timesPerDay: 3, days: 10, text: 'Take 2 capsules by mouth three times daily for 10 days' },
  azithromycin: { code: rxnorm('308460', 'azithromycin 250 MG Oral Tablet'), unit: 'tablet', route: ROUTE.oral, dose: 1, timesPerDay: 1, days: 5, text: 'Take 2 tablets on day 1, then 1 tablet daily on days 2 to 5' },
} satisfies Record<string, Medication>;

// ---------------------------------------------------------------- allergies

export const ALLERGY_STATUS = {
  active: code(SYSTEM.allergyClinical)('active', 'Active'),
  confirmed: code(SYSTEM.allergyVerification)('confirmed', 'Confirmed'),
  unconfirmed: code(SYSTEM.allergyVerification)('unconfirmed', 'Unconfirmed'),
};

export const MANIFESTATION = {
  anaphylaxis: snomed('39579001', 'Anaphylaxis (disorder)'),
  hives: snomed('247472004', 'Wheal (finding)'),
  rash: snomed('271807003', 'Eruption of skin (disorder)'),
  itching: snomed('418290006', 'Itching (finding)'),
  dyspnea: snomed('267036007', 'Dyspnea (finding)'),
  angioedema: snomed('402387002', 'Allergic angioedema (disorder)'),
  vomiting: snomed('300359004', 'Finding of vomiting (finding)'),
  nausea: snomed('422587007', 'Nausea (finding)'),
  rhinoconjunctivitis: snomed('878820003', 'Rhinoconjunctivitis (disorder)'),
};

export interface Allergen {
  code: Code;
  category: 'food' | 'medication' | 'environment' | 'biologic';
  type: 'allergy' | 'intolerance';
  reactions: readonly Code[];
  /** Relative frequency among recorded allergies. */
  weight: number;
}

const M = MANIFESTATION;
export const ALLERGEN = {
  penicillin: { code: rxnorm('7984', 'penicillin V'), category: 'medication', type: 'allergy', reactions: [M.hives, M.rash, M.anaphylaxis, M.angioedema], weight: 10 },
  sulfonamide: { code: snomed('387406002', 'Sulfonamide (substance)'), category: 'medication', type: 'allergy', reactions: [M.rash, M.hives, M.itching], weight: 5 },
  aspirin: { code: rxnorm('1191', 'aspirin'), category: 'medication', type: 'intolerance', reactions: [M.nausea, M.hives, M.angioedema], weight: 3 },
  ibuprofen: { code: rxnorm('5640', 'ibuprofen'), category: 'medication', type: 'intolerance', reactions: [M.nausea, M.itching, M.hives], weight: 2 },
  peanut: { code: snomed('762952008', 'Peanut (substance)'), category: 'food', type: 'allergy', reactions: [M.anaphylaxis, M.hives, M.angioedema, M.vomiting], weight: 3 },
  treeNut: { code: snomed('442571000124108', 'Tree nut (substance)'), category: 'food', type: 'allergy', reactions: [M.hives, M.angioedema, M.anaphylaxis], weight: 2 },
  shellfish: { code: snomed('735029006', 'Shellfish (substance)'), category: 'food', type: 'allergy', reactions: [M.hives, M.vomiting, M.anaphylaxis], weight: 3 },
  egg: { code: snomed('102263004', 'Eggs (edible) (substance)'), category: 'food', type: 'allergy', reactions: [M.rash, M.vomiting], weight: 2 },
  latex: { code: snomed('111088007', 'Latex (substance)'), category: 'environment', type: 'allergy', reactions: [M.rash, M.itching, M.hives], weight: 2 },
  beeVenom: { code: snomed('288328004', 'Bee venom (substance)'), category: 'environment', type: 'allergy', reactions: [M.anaphylaxis, M.hives, M.dyspnea], weight: 2 },
  dustMite: { code: snomed('260147004', 'House dust mite (organism)'), category: 'environment', type: 'allergy', reactions: [M.rhinoconjunctivitis, M.dyspnea], weight: 3 },
  grassPollen: { code: snomed('256277009', 'Grass pollen (substance)'), category: 'environment', type: 'allergy', reactions: [M.rhinoconjunctivitis, M.itching], weight: 4 },
} satisfies Record<string, Allergen>;

// ---------------------------------------------------------------- immunizations (CVX)

export const VACCINE = {
  influenza: cvx('140', 'Influenza, seasonal, injectable, preservative free'),
  covid19: cvx('208', 'SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose'),
  td: cvx('113', 'Td (adult) preservative free'),
  tdap: cvx('115', 'Tdap'),
  pneumococcal23: cvx('33', 'pneumococcal polysaccharide vaccine, 23 valent'),
  pneumococcal13: cvx('133', 'Pneumococcal conjugate PCV 13'),
  zoster: cvx('187', 'zoster vaccine recombinant'),
  hepatitisB: cvx('08', 'Hep B, adolescent or pediatric'),
  hepatitisA: cvx('83', 'Hep A, ped/adol, 2 dose'),
  dtap: cvx('20', 'DTaP'),
  polio: cvx('10', 'IPV'),
  hib: cvx('49', 'Hib (PRP-OMP)'),
  mmr: cvx('03', 'MMR'),
  varicella: cvx('21', 'varicella'),
  hpv: cvx('165', 'HPV9'),
  meningococcal: cvx('114', 'meningococcal MCV4P'),
};

// ---------------------------------------------------------------- procedures (SNOMED CT)

export const PROCEDURE = {
  medicationReconciliation: snomed('430193006', 'Medication Reconciliation (procedure)'),
  depressionScreening: snomed('171207006', 'Depression screening (procedure)'),
  mammography: snomed('71651007', 'Mammography (procedure)'),
  colonoscopy: snomed('73761001', 'Colonoscopy (procedure)'),
  spirometry: snomed('23426006', 'Measurement of respiratory function (procedure)'),
  throatCulture: snomed('117015009', 'Throat culture (procedure)'),
  electrocardiogram: snomed('29303009', 'Electrocardiographic procedure (procedure)'),
  chestXray: snomed('399208008', 'Plain chest X-ray (procedure)'),
  suture: snomed('288086009', 'Suture open wound (procedure)'),
};

// ---------------------------------------------------------------- organizations and staff

export const ORGANIZATION_TYPE_PROVIDER = code(SYSTEM.organizationType)('prov', 'Healthcare Provider');

export const LOCATION_TYPE = {
  familyClinic: code(SYSTEM.roleCode)('FMC', 'Family Medicine Clinic'),
  emergencyRoom: code(SYSTEM.roleCode)('ER', 'Emergency room'),
  hospitalUnit: code(SYSTEM.roleCode)('HU', 'Hospital unit'),
  outpatient: code(SYSTEM.roleCode)('OF', 'Outpatient facility'),
};

export const PHYSICAL_TYPE = {
  building: code(SYSTEM.locationPhysicalType)('bu', 'Building'),
  wing: code(SYSTEM.locationPhysicalType)('wi', 'Wing'),
  ward: code(SYSTEM.locationPhysicalType)('wa', 'Ward'),
};

export const SPECIALTY = {
  familyPractice: snomed('419772000', 'Family practice (qualifier value)'),
  internalMedicine: snomed('419192003', 'Internal medicine (qualifier value)'),
  pediatrics: snomed('394537008', 'Pediatric specialty (qualifier value)'),
  emergencyMedicine: snomed('773568002', 'Emergency medicine (qualifier value)'),
  cardiology: snomed('394579002', 'Cardiology (qualifier value)'),
  endocrinology: snomed('394583002', 'Endocrinology (qualifier value)'),
  nephrology: snomed('394589003', 'Nephrology (qualifier value)'),
};

export const ROLE_DOCTOR = code(SYSTEM.practitionerRole)('doctor', 'Doctor');
export const DEGREE_MD = code(SYSTEM.degree)('MD', 'Doctor of Medicine');
