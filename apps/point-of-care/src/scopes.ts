// Least privilege: the app asks only for what it shows. SMART v2 scopes (read and search) when the server
// advertises `permission-v2`, else their v1 equivalents. After consent, `readable` tells which of them the user
// actually granted, so the page can say what it cannot show and why.
// @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html

/** The resource types the app reads, and what it uses each for. */
export const NEEDED = {
  Patient: 'the patient banner',
  Observation: 'vital signs',
  MedicationRequest: 'active medications',
  AllergyIntolerance: 'allergies',
  Condition: 'conditions (for the adverse-reaction check)',
} as const;
export type NeededType = keyof typeof NEEDED;

export function requestedScope(o: { v2: boolean; standalone: boolean }): string {
  const identity = ['openid', 'fhirUser', o.standalone ? 'launch/patient' : 'launch'];
  const data = (Object.keys(NEEDED) as NeededType[]).map((type) => (o.v2 ? `patient/${type}.${type === 'Patient' ? 'r' : 'rs'}` : `patient/${type}.read`));
  return [...identity, ...data].join(' ');
}

/**
 * Whether the granted scope lets the app read (and, but for Patient, search) `type` in the patient's context:
 * `patient/` or `user/` scopes naming the type or `*`, v1 (`read`, `*`) or v2 letters; a granular scope
 * (`?category=…`) counts, since the server narrows what it returns.
 */
export function readable(granted: string, type: NeededType): boolean {
  const need = type === 'Patient' ? ['r'] : ['r', 's'];
  return granted.split(' ').some((scope) => {
    const m = /^(patient|user)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(scope);
    if (!m || (m[2] !== type && m[2] !== '*')) return false;
    const perms = m[3]!;
    if (perms === 'read' || perms === '*') return true;
    return /^c?r?u?d?s?$/.test(perms) && need.every((letter) => perms.includes(letter));
  });
}
