-- The guard of an audit batch that also records client assertion jtis (audit/audit-log.ts): a token endpoint's
-- AuditEvent of an issued token and its assertion's jti are committed by one statement, and if any jti of the batch
-- is not recorded (a replay, or its client changed), the whole statement fails with SQLSTATE FKJ01 and the log
-- decides each jti on its own before appending the events that still hold.
-- (The body is on one line: migrate.ts splits statements on a semicolon at the end of a line.)
CREATE FUNCTION audit_jtis_recorded(recorded bigint, expected bigint) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN IF recorded <> expected THEN RAISE EXCEPTION 'a client assertion jti of this audit batch was not recorded' USING ERRCODE = 'FKJ01'; END IF; RETURN true; END
$$;
