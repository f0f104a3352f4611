// FHIR R4 types for the subset of elements the seed generator emits.
// The repository's @types/fhir is the STU3 edition (no 'fhir/r4' entry), so these are declared here,
// with the R4 names, and with the codes of required bindings as literal unions so tsc checks them.
// Every element is optional unless R4 makes it 1..1.

export interface Coding { system?: string; version?: string; code?: string; display?: string }
export interface CodeableConcept { coding?: Coding[]; text?: string }
export interface Reference { reference?: string; display?: string }
export interface Period { start?: string; end?: string }
export interface Quantity { value?: number; unit?: string; system?: string; code?: string }
export type Duration = Quantity;
export type SimpleQuantity = Quantity;

export interface Identifier {
  use?: 'usual' | 'official' | 'temp' | 'secondary' | 'old';
  type?: CodeableConcept;
  system?: string;
  value?: string;
}

export interface HumanName {
  use?: 'usual' | 'official' | 'temp' | 'nickname' | 'anonymous' | 'old' | 'maiden';
  family?: string;
  given?: string[];
  prefix?: string[];
  suffix?: string[];
}

export interface ContactPoint {
  system?: 'phone' | 'fax' | 'email' | 'pager' | 'url' | 'sms' | 'other';
  value?: string;
  use?: 'home' | 'work' | 'temp' | 'old' | 'mobile';
}

export interface Address {
  use?: 'home' | 'work' | 'temp' | 'old' | 'billing';
  type?: 'postal' | 'physical' | 'both';
  line?: string[];
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

export type AdministrativeGender = 'male' | 'female' | 'other' | 'unknown';

export interface Patient {
  resourceType: 'Patient';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: AdministrativeGender;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: Address[];
  maritalStatus?: CodeableConcept;
  generalPractitioner?: Reference[];
  managingOrganization?: Reference;
}

export interface Organization {
  resourceType: 'Organization';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  type?: CodeableConcept[];
  name?: string;
  telecom?: ContactPoint[];
  address?: Address[];
}

export interface Location {
  resourceType: 'Location';
  id?: string;
  identifier?: Identifier[];
  status?: 'active' | 'suspended' | 'inactive';
  name?: string;
  mode?: 'instance' | 'kind';
  type?: CodeableConcept[];
  telecom?: ContactPoint[];
  address?: Address;
  physicalType?: CodeableConcept;
  managingOrganization?: Reference;
}

export interface Practitioner {
  resourceType: 'Practitioner';
  id?: string;
  identifier?: Identifier[];
  active?: boolean;
  name?: HumanName[];
  telecom?: ContactPoint[];
  gender?: AdministrativeGender;
  qualification?: { code: CodeableConcept }[];
}

export interface PractitionerRole {
  resourceType: 'PractitionerRole';
  id?: string;
  active?: boolean;
  practitioner?: Reference;
  organization?: Reference;
  code?: CodeableConcept[];
  specialty?: CodeableConcept[];
  location?: Reference[];
  telecom?: ContactPoint[];
}

export interface Encounter {
  resourceType: 'Encounter';
  id?: string;
  status: 'planned' | 'arrived' | 'triaged' | 'in-progress' | 'onleave' | 'finished' | 'cancelled' | 'entered-in-error' | 'unknown';
  class: Coding;
  type?: CodeableConcept[];
  subject?: Reference;
  participant?: { type?: CodeableConcept[]; individual?: Reference }[];
  period?: Period;
  reasonCode?: CodeableConcept[];
  hospitalization?: { admitSource?: CodeableConcept; dischargeDisposition?: CodeableConcept };
  location?: { location: Reference; status?: 'planned' | 'active' | 'reserved' | 'completed' }[];
  serviceProvider?: Reference;
}

export interface ObservationReferenceRange { low?: SimpleQuantity; high?: SimpleQuantity; text?: string }

export interface Observation {
  resourceType: 'Observation';
  id?: string;
  status: 'registered' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error' | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  issued?: string;
  valueQuantity?: Quantity;
  interpretation?: CodeableConcept[];
  referenceRange?: ObservationReferenceRange[];
  component?: { code: CodeableConcept; valueQuantity?: Quantity }[];
}

export interface DiagnosticReport {
  resourceType: 'DiagnosticReport';
  id?: string;
  status: 'registered' | 'partial' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'appended' | 'cancelled' | 'entered-in-error' | 'unknown';
  category?: CodeableConcept[];
  code: CodeableConcept;
  subject?: Reference;
  encounter?: Reference;
  effectiveDateTime?: string;
  issued?: string;
  performer?: Reference[];
  result?: Reference[];
}

export interface Condition {
  resourceType: 'Condition';
  id?: string;
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  category?: CodeableConcept[];
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  onsetDateTime?: string;
  abatementDateTime?: string;
  recordedDate?: string;
  recorder?: Reference;
}

export interface Dosage {
  sequence?: number;
  text?: string;
  timing?: { repeat?: { frequency?: number; period?: number; periodUnit?: 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a' } };
  asNeededBoolean?: boolean;
  route?: CodeableConcept;
  doseAndRate?: { type?: CodeableConcept; doseQuantity?: SimpleQuantity }[];
}

export interface MedicationRequest {
  resourceType: 'MedicationRequest';
  id?: string;
  status: 'active' | 'on-hold' | 'cancelled' | 'completed' | 'entered-in-error' | 'stopped' | 'draft' | 'unknown';
  intent: 'proposal' | 'plan' | 'order' | 'original-order' | 'reflex-order' | 'filler-order' | 'instance-order' | 'option';
  medicationCodeableConcept: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  authoredOn?: string;
  requester?: Reference;
  reasonReference?: Reference[];
  dosageInstruction?: Dosage[];
  dispenseRequest?: { numberOfRepeatsAllowed?: number; quantity?: SimpleQuantity; expectedSupplyDuration?: Duration };
}

export type AllergyIntoleranceCategory = 'food' | 'medication' | 'environment' | 'biologic';
export type AllergyIntoleranceSeverity = 'mild' | 'moderate' | 'severe';

export interface AllergyIntolerance {
  resourceType: 'AllergyIntolerance';
  id?: string;
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  type?: 'allergy' | 'intolerance';
  category?: AllergyIntoleranceCategory[];
  criticality?: 'low' | 'high' | 'unable-to-assess';
  code?: CodeableConcept;
  patient: Reference;
  encounter?: Reference;
  onsetDateTime?: string;
  recordedDate?: string;
  recorder?: Reference;
  reaction?: { manifestation: CodeableConcept[]; severity?: AllergyIntoleranceSeverity }[];
}

export interface Immunization {
  resourceType: 'Immunization';
  id?: string;
  status: 'completed' | 'entered-in-error' | 'not-done';
  vaccineCode: CodeableConcept;
  patient: Reference;
  encounter?: Reference;
  occurrenceDateTime: string;
  primarySource?: boolean;
  location?: Reference;
  lotNumber?: string;
  route?: CodeableConcept;
  doseQuantity?: SimpleQuantity;
  performer?: { actor: Reference }[];
}

export interface Procedure {
  resourceType: 'Procedure';
  id?: string;
  status: 'preparation' | 'in-progress' | 'not-done' | 'on-hold' | 'stopped' | 'completed' | 'entered-in-error' | 'unknown';
  code?: CodeableConcept;
  subject: Reference;
  encounter?: Reference;
  performedDateTime?: string;
  performedPeriod?: Period;
  performer?: { actor: Reference }[];
  location?: Reference;
  reasonReference?: Reference[];
}

export type Resource =
  | Patient | Organization | Location | Practitioner | PractitionerRole | Encounter | Observation
  | DiagnosticReport | Condition | MedicationRequest | AllergyIntolerance | Immunization | Procedure;

export interface BundleEntry {
  fullUrl?: string;
  resource?: Resource;
  request?: { method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'; url: string };
}

export interface Bundle {
  resourceType: 'Bundle';
  id?: string;
  type: 'document' | 'message' | 'transaction' | 'transaction-response' | 'batch' | 'batch-response' | 'history' | 'searchset' | 'collection';
  entry?: BundleEntry[];
}
