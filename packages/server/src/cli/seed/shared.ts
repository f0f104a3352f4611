// The shared resources every synthetic patient points at: Organizations, Locations, Practitioners and
// PractitionerRoles with fixed ids (loaded with PUT, so loading twice does not duplicate them).
// Which practitioner works where is a fixed layout, independent of the seed, so patient generation can
// pick staff without generating the shared bundle; only names, addresses and NPIs come from the seed.
import type { Address, Bundle, BundleEntry, CodeableConcept, ContactPoint, Location, Organization, Practitioner, PractitionerRole, Resource } from './fhir-types.ts';
import { Rng, type Seed } from './random.ts';
import {
  CITIES, DEGREE_MD, FAMILY_NAMES, GIVEN_NAMES, LOCATION_TYPE, ORGANIZATION_TYPE_PROVIDER, PHYSICAL_TYPE, ROLE_DOCTOR,
  SPECIALTY, STREETS, SYSTEM, type City, type Code,
} from './vocabulary.ts';

export interface OrganizationDef { id: string; label: string; domain: string }
export interface LocationDef { id: string; org: OrganizationDef; label: string; type: Code; physicalType: Code }
export interface StaffDef {
  id: string;
  role: string;
  location: LocationDef;
  specialty: Code;
  /** Whom this practitioner serves as general practitioner, if anyone. */
  primaryCare?: 'adults' | 'children';
}

const org = (n: number, label: string, domain: string): OrganizationDef => ({ id: `fk-org-${n}`, label, domain });
export const ORGANIZATIONS = {
  communityHealth: org(1, 'Community Health Center', 'communityhealth'),
  hospital: org(2, 'General Hospital', 'generalhospital'),
  familyMedicine: org(3, 'Family Medicine Associates', 'familymedicine'),
};

const O = ORGANIZATIONS;
const loc = (n: number, o: OrganizationDef, label: string, type: Code, physicalType: Code): LocationDef =>
  ({ id: `fk-loc-${n}`, org: o, label, type, physicalType });
export const LOCATIONS = {
  communityClinic: loc(1, O.communityHealth, 'Main Clinic', LOCATION_TYPE.familyClinic, PHYSICAL_TYPE.building),
  emergency: loc(2, O.hospital, 'Emergency Department', LOCATION_TYPE.emergencyRoom, PHYSICAL_TYPE.wing),
  ward: loc(3, O.hospital, 'Medical Ward 3 West', LOCATION_TYPE.hospitalUnit, PHYSICAL_TYPE.ward),
  specialtyClinic: loc(4, O.hospital, 'Outpatient Specialty Clinic', LOCATION_TYPE.outpatient, PHYSICAL_TYPE.building),
  familyClinic: loc(5, O.familyMedicine, 'Family Medicine Clinic', LOCATION_TYPE.familyClinic, PHYSICAL_TYPE.building),
};

const L = LOCATIONS;
const S = SPECIALTY;
const staff = (n: number, location: LocationDef, specialty: Code, primaryCare?: StaffDef['primaryCare']): StaffDef =>
  ({ id: `fk-pract-${n}`, role: `fk-role-${n}`, location, specialty, ...(primaryCare ? { primaryCare } : {}) });
export const STAFF: readonly StaffDef[] = [
  staff(1, L.communityClinic, S.familyPractice, 'adults'),
  staff(2, L.communityClinic, S.familyPractice, 'adults'),
  staff(3, L.communityClinic, S.internalMedicine, 'adults'),
  staff(4, L.communityClinic, S.pediatrics, 'children'),
  staff(5, L.emergency, S.emergencyMedicine),
  staff(6, L.emergency, S.emergencyMedicine),
  staff(7, L.ward, S.internalMedicine),
  staff(8, L.specialtyClinic, S.cardiology),
  staff(9, L.familyClinic, S.familyPractice, 'adults'),
  staff(10, L.familyClinic, S.pediatrics, 'children'),
  staff(11, L.familyClinic, S.endocrinology),
  staff(12, L.familyClinic, S.nephrology),
];

/** The organizations that act as a patient's primary-care home. */
export const PRIMARY_CARE_ORGS: readonly OrganizationDef[] = [O.communityHealth, O.familyMedicine];

export const staffAt = (location: LocationDef): StaffDef[] => STAFF.filter((s) => s.location === location);
export const staffWith = (specialty: Code): StaffDef[] => STAFF.filter((s) => s.specialty === specialty);

export const cc = (c: Code, text?: string): CodeableConcept => ({ coding: [{ ...c }], text: text ?? c.display });

/** A fictitious US phone number in the 555-0100…555-0199 range reserved for fiction. */
export function phoneNumber(rng: Rng, city: City): string {
  return `(${city.areaCode}) 555-01${String(rng.int(0, 99)).padStart(2, '0')}`;
}

export function streetAddress(rng: Rng, city: City, use: Address['use']): Address {
  return { use, line: [`${rng.int(1, 9899)} ${rng.pick(STREETS)}`], city: city.city, state: city.state, postalCode: city.postalCode, country: 'US' };
}

/** A 10-digit NPI whose last digit is the Luhn check digit over the prefix 80840 + the first nine digits. */
export function npi(rng: Rng): string {
  const base = `${rng.int(1, 2)}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
  let sum = 24; // the Luhn contribution of the constant prefix 80840
  for (let i = 0; i < 9; i++) {
    let d = Number(base[8 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return base + String((10 - (sum % 10)) % 10);
}

/** Transaction bundle (PUT with fixed ids) holding every shared resource. */
export function generateShared(opts: { seed: Seed }): Bundle {
  const rng = new Rng(`${opts.seed}/shared`);
  const cities = new Map<OrganizationDef, City>();
  const resources: Resource[] = [];

  for (const def of Object.values(ORGANIZATIONS)) {
    const city = rng.pick(CITIES);
    cities.set(def, city);
    const organization: Organization = {
      resourceType: 'Organization',
      id: def.id,
      identifier: [{ use: 'official', system: SYSTEM.org, value: def.id }],
      active: true,
      type: [cc(ORGANIZATION_TYPE_PROVIDER)],
      name: `${city.city} ${def.label}`,
      telecom: [{ system: 'phone', value: phoneNumber(rng, city), use: 'work' }, { system: 'url', value: `https://${def.domain}.example.org`, use: 'work' }],
      address: [streetAddress(rng, city, 'work')],
    };
    resources.push(organization);
  }

  for (const def of Object.values(LOCATIONS)) {
    const city = cities.get(def.org)!;
    const location: Location = {
      resourceType: 'Location',
      id: def.id,
      status: 'active',
      name: `${city.city} ${def.org.label} – ${def.label}`,
      mode: 'instance',
      type: [cc(def.type)],
      telecom: [{ system: 'phone', value: phoneNumber(rng, city), use: 'work' }],
      address: streetAddress(rng, city, 'work'),
      physicalType: cc(def.physicalType),
      managingOrganization: { reference: `Organization/${def.org.id}` },
    };
    resources.push(location);
  }

  for (const def of STAFF) {
    const city = cities.get(def.location.org)!;
    const gender = rng.chance(0.5) ? 'female' : 'male';
    const given = rng.pick(GIVEN_NAMES[gender]);
    const family = rng.pick(FAMILY_NAMES);
    const email = `${asciiSlug(given)}.${asciiSlug(family)}@${def.location.org.domain}.example.org`;
    const telecom: ContactPoint[] = [{ system: 'phone', value: phoneNumber(rng, city), use: 'work' }, { system: 'email', value: email, use: 'work' }];
    const practitioner: Practitioner = {
      resourceType: 'Practitioner',
      id: def.id,
      identifier: [{ use: 'official', system: SYSTEM.npi, value: npi(rng) }],
      active: true,
      name: [{ use: 'official', family, given: [given], prefix: ['Dr.'], suffix: ['MD'] }],
      telecom,
      gender,
      qualification: [{ code: cc(DEGREE_MD) }],
    };
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      id: def.role,
      active: true,
      practitioner: { reference: `Practitioner/${def.id}`, display: `Dr. ${given} ${family}` },
      organization: { reference: `Organization/${def.location.org.id}` },
      code: [cc(ROLE_DOCTOR)],
      specialty: [cc(def.specialty)],
      location: [{ reference: `Location/${def.location.id}` }],
      telecom,
    };
    resources.push(practitioner, role);
  }

  const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }));
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** Lower-case ASCII for e-mail local parts: "Acuña" → "acuna", "O'Brien" → "obrien". */
export function asciiSlug(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/ø/g, 'o').replace(/[^a-z0-9]+/g, '');
}
