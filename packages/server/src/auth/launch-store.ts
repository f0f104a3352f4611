// EHR launch records (SMART App Launch 2.2 §EHR launch): the EHR stores the context and hands the app an opaque,
// random `launch` id; the context never travels in the URL. A record is bound to one client and expires.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../store/database.ts';

export const LAUNCH_LIFETIME_S = 10 * 60;

export interface LaunchContextRecord {
  patient?: string;
  encounter?: string;
  fhirContext?: { reference?: string; canonical?: string; identifier?: unknown; type?: string; role?: string }[];
  intent?: string;
  need_patient_banner?: boolean;
  smart_style_url?: string;
  tenant?: string;
  /** Custom launch parameters (the launch API's `parameters`): added to the token response as they are. */
  parameters?: Record<string, string | number | boolean>;
}

export interface Launch {
  id: string;
  clientId: string;
  userId: string | null;
  context: LaunchContextRecord;
}

export async function createLaunch(q: Queryable, l: Omit<Launch, 'id'>, now = new Date()): Promise<Launch> {
  const id = randomBytes(18).toString('base64url');
  await q.query(
    `INSERT INTO launches (id, client_id, user_id, context, created_at, expires_at)
     VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz, $5::timestamptz + make_interval(secs => $6))`,
    [id, l.clientId, l.userId, JSON.stringify(l.context), now.toISOString(), LAUNCH_LIFETIME_S],
  );
  return { id, ...l };
}

/** The live launch with this id for this client; a launch made for another client is not found. */
export async function findLaunch(q: Queryable, id: string, clientId: string): Promise<Launch | undefined> {
  const rows = await q.query<{ userId: string | null; context: string }>(
    `SELECT user_id AS "userId", context::text AS context FROM launches WHERE id = $1 AND client_id = $2 AND expires_at > now()`,
    [id, clientId],
  );
  const row = rows[0];
  return row && { id, clientId, userId: row.userId, context: JSON.parse(row.context) as LaunchContextRecord };
}
