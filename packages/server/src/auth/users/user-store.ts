// The people who sign in. A user is linked to a FHIR resource (OpenID `fhirUser`) and carries an access policy:
// the rights the access layer intersects with every `user/` scope (issue: "the user's own rights").
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/database.ts';
import { hashSecret, verifySecret } from '../secret-hash.ts';

export type UserRole = 'clinician' | 'patient' | 'admin';

export type AccessPolicy =
  | { kind: 'all-patients' }
  | { kind: 'organization'; organization: string } // patients managed by this Organization
  | { kind: 'own-compartment' }; // a Patient or RelatedPerson user: only their own record

export interface User {
  id: string;
  username: string;
  name: string;
  email: string | null;
  role: UserRole;
  fhirUser: string | null;
  accessPolicy: AccessPolicy;
}

export interface NewUser {
  username: string;
  password: string;
  name: string;
  email?: string;
  role: UserRole;
  fhirUser?: string;
  accessPolicy?: AccessPolicy;
}

const COLUMNS = `id, username, name, email, role, fhir_user AS "fhirUser", access_policy::text AS "accessPolicy"`;
type Row = Omit<User, 'accessPolicy'> & { accessPolicy: string };
const toUser = (r: Row): User => ({ ...r, accessPolicy: JSON.parse(r.accessPolicy) as AccessPolicy });

const FHIR_USER = /^(Practitioner|Patient|RelatedPerson|PractitionerRole|Person)\/[A-Za-z0-9\-.]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

export const USER_ROLES: readonly UserRole[] = ['clinician', 'patient', 'admin'];

/** Throws a TypeError (its message written for the person who typed the value) for a malformed role, fhirUser or policy. */
function checkUserSettings(role: UserRole, fhirUser: string | null | undefined, policy: AccessPolicy | undefined): void {
  if (!USER_ROLES.includes(role)) throw new TypeError(`a role is one of ${USER_ROLES.join(', ')}`);
  if (fhirUser !== undefined && fhirUser !== null && !FHIR_USER.test(fhirUser)) throw new TypeError('fhirUser must be a relative reference such as Practitioner/123');
  if (policy?.kind === 'organization' && !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(policy.organization)) throw new TypeError('an organization policy names an Organization, such as Organization/123');
}

export async function createUser(q: Queryable, u: NewUser, now = new Date()): Promise<User> {
  const username = normaliseUsername(u.username);
  if (!/^[a-z0-9._@-]{2,64}$/.test(username)) throw new TypeError('a username is 2–64 letters, digits or . _ @ -');
  if (u.password.length < MIN_PASSWORD_LENGTH) throw new TypeError(`a password has at least ${MIN_PASSWORD_LENGTH} characters`);
  checkUserSettings(u.role, u.fhirUser, u.accessPolicy);
  const policy = u.accessPolicy ?? (u.role === 'patient' ? { kind: 'own-compartment' } : { kind: 'all-patients' });
  const rows = await q.query<Row>(
    `INSERT INTO users (id, username, password_hash, name, email, role, fhir_user, access_policy, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::timestamptz, $9::timestamptz) RETURNING ${COLUMNS}`,
    [randomUUID(), username, await hashSecret(u.password), u.name, u.email ?? null, u.role, u.fhirUser ?? null, JSON.stringify(policy), now.toISOString()],
  );
  return toUser(rows[0]!);
}

export interface UserSettings {
  name: string;
  role: UserRole;
  fhirUser: string | null;
  accessPolicy: AccessPolicy;
}

/** Changes what an administrator may change of a user (not the username or password); undefined when there is no such user. */
export async function updateUser(q: Queryable, id: string, u: UserSettings, now = new Date()): Promise<User | undefined> {
  checkUserSettings(u.role, u.fhirUser, u.accessPolicy);
  const rows = await q.query<Row>(
    `UPDATE users SET name = $2, role = $3, fhir_user = $4, access_policy = $5::jsonb, updated_at = $6::timestamptz WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, u.name, u.role, u.fhirUser, JSON.stringify(u.accessPolicy), now.toISOString()],
  );
  return rows[0] && toUser(rows[0]);
}

export async function getUser(q: Queryable, id: string): Promise<User | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] && toUser(rows[0]);
}

export async function getUserByUsername(q: Queryable, username: string): Promise<User | undefined> {
  const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM users WHERE username = $1`, [normaliseUsername(username)]);
  return rows[0] && toUser(rows[0]);
}

export async function listUsers(q: Queryable): Promise<User[]> {
  return (await q.query<Row>(`SELECT ${COLUMNS} FROM users ORDER BY username`)).map(toUser);
}

// Compared against when the username is unknown, so a miss costs as much as a wrong password.
const DUMMY_HASH = hashSecret('firekeeper-no-such-user');

/** The user whose username and password these are, or undefined (same cost either way). */
export async function checkPassword(q: Queryable, username: string, password: string): Promise<User | undefined> {
  const rows = await q.query<Row & { hash: string }>(`SELECT ${COLUMNS}, password_hash AS hash FROM users WHERE username = $1`, [normaliseUsername(username)]);
  const row = rows[0];
  const ok = await verifySecret(password, row?.hash ?? (await DUMMY_HASH));
  if (!row || !ok) return undefined;
  const { hash: _hash, ...user } = row;
  return toUser(user);
}
