// Sample users of the sandbox: a clinician (linked to a seeded Practitioner), a patient (linked to the first seeded
// Patient) and an administrator. Their passwords are published development values, printed at start-up; production
// mode creates no users.
import type { Database } from '../store/database.ts';
import { SANDBOX_CREDENTIALS } from '../config.ts';
import { displayName } from '../auth/launch-pickers.ts';
import { createUser, type NewUser } from '../auth/users/user-store.ts';

export interface SandboxUser {
  username: string;
  password: string;
  name: string;
  fhirUser?: string;
}

async function firstResource(db: Database, type: string): Promise<{ id: string; name: unknown } | undefined> {
  const rows = await db.query<{ id: string; name: string | null }>(
    `SELECT id, (resource->'name')::text AS name FROM resources WHERE type = $1 AND NOT deleted ORDER BY id LIMIT 1`, [type]);
  return rows[0] && { id: rows[0].id, name: rows[0].name ? JSON.parse(rows[0].name) : undefined };
}

/** Creates the sample users that do not exist yet and returns all of them (for the start-up banner). */
export async function ensureSandboxUsers(db: Database): Promise<SandboxUser[]> {
  const practitioner = await firstResource(db, 'Practitioner');
  const patient = await firstResource(db, 'Patient');
  const [clinician, patientUser, admin] = SANDBOX_CREDENTIALS;
  const wanted: NewUser[] = [
    { ...clinician, name: practitioner ? displayName(practitioner.name) : 'Sandbox Clinician', email: 'clinician@sandbox.firekeeper.test', ...(practitioner ? { fhirUser: `Practitioner/${practitioner.id}` } : {}) },
    { ...patientUser, name: patient ? displayName(patient.name) : 'Sandbox Patient', email: 'patient@sandbox.firekeeper.test', ...(patient ? { fhirUser: `Patient/${patient.id}` } : {}) },
    { ...admin, name: 'Sandbox Administrator' },
  ];
  const existing = new Set((await db.query<{ username: string }>('SELECT username FROM users')).map((r) => r.username));
  for (const u of wanted) if (!existing.has(u.username)) await createUser(db, u);
  return wanted.map((u) => ({ username: u.username, password: u.password, name: u.name, fhirUser: u.fhirUser }));
}
