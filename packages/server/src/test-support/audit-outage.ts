// An audit store that refuses every record for a while: a trigger on `audit_chain` fails each append, as a full disk
// or a lost database would, so that tests can show what a response does when its AuditEvent cannot be committed.
import type { Queryable } from '../store/database.ts';

/** Runs `fn` while every AuditEvent append fails ("the audit store is down"), then lets appends through again. */
export async function whileAuditRefuses(db: Queryable, fn: () => Promise<void>): Promise<void> {
  await db.query(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit store is down'; END $$`);
  await db.query('CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_chain FOR EACH ROW EXECUTE FUNCTION refuse_audit()');
  try {
    await fn();
  } finally {
    await db.query('DROP TRIGGER refuse_audit ON audit_chain');
    await db.query('DROP FUNCTION refuse_audit()');
  }
}
