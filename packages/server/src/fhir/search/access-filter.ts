// The one place where the principal narrows which rows it may see or write. Every resources row a request touches
// (search matches, chained and `_has` targets, `_include` / `_revinclude` results, `$everything`, history, reads,
// and the rows a write leaves behind) is judged by the SQL built here, so enforcement applies everywhere at once and
// searches are narrowed in SQL, before paging (docs/architecture: "Search and compartments are computed at write time").
//
// A row is allowed when some granted scope allows it, and no privacy preference of its patient denies it:
// - a scope grants its permissions on its type (`*`: every type), narrowed by its granular constraints
//   (SMART App Launch 2.2 §Finer-grained resource constraints using search parameters), within its context:
//   - `patient/`: the launch patient's record (the Patient compartment, http://hl7.org/fhir/R4/compartmentdefinition-patient.html);
//   - `user/`: the records the user's access policy opens (all patients, an Organization's patients, or their own);
//   - `system/`: every record (the client's registration was intersected with the scope when the token was issued);
// - resources of a type outside the Patient CompartmentDefinition (Practitioner, Organization, Medication…) are part
//   of nobody's record: the scope alone decides;
// - an app's request never sees a row that an active patient-privacy Consent of the row's patient denies to it
//   (access/consent-rules.ts).
import type { Principal } from '../../access/principal.ts';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import { contextsOf, grantedScopes } from '../../access/scope-check.ts';
import type { Permission, ResourceScope, ScopeContext } from '../../access/scope-grammar.ts';
import { isInPatientCompartmentDefinition, RESOURCE_TYPES } from '../search-parameters.ts';
import type { Condition } from './ast.ts';
import { parseCondition } from './parse-params.ts';
import { Aliases, and, FALSE, or, raw, sql, TRUE, type Sql } from './sql.ts';
import { whereSql } from './where.ts';

/** What a row in search results needs: read or search on its type. */
const SEE: readonly Permission[] = ['r', 's'];

const COMPARTMENT_TYPES: readonly string[] = RESOURCE_TYPES.filter(isInPatientCompartmentDefinition);

/**
 * The rows of `row` (an alias of `resources`) that `principal` may see (or, with `want`, may read, write or delete),
 * as a predicate; `type` is the rows' type when every row has it (undefined: several types, use `row.type`).
 */
export function accessFilter(principal: Principal, type: string | undefined, row: Sql, aliases: Aliases, want: readonly Permission[] = SEE): Sql {
  if (principal.kind === 'system') return TRUE;
  const granted = or(...contextsOf(principal).map((context) => contextRows(principal, context, type, row, aliases, want)));
  return and(granted, consentRows(principal, type, row));
}

/** `accessFilter` for one permission on rows of one type, over the alias `r` (reads and writes of one resource). */
export function rowAccess(principal: Principal, type: string, permission: Permission): Sql {
  return accessFilter(principal, type, raw('r'), new Aliases(), [permission]);
}

/** The rows one context's scopes allow: some scope's type and constraints match, and the row is in that context's records. */
function contextRows(p: Principal, context: ScopeContext, type: string | undefined, row: Sql, aliases: Aliases, want: readonly Permission[]): Sql {
  const scopes = grantedScopes(p).filter((s) => s.context === context && want.some((w) => s.permissions.includes(w))
    && (type === undefined || s.resourceType === '*' || s.resourceType === type));
  if (scopes.length === 0) return FALSE;
  const open = typeIn(scopes.filter((s) => s.constraints.length === 0).map((s) => s.resourceType), type, row);
  const constrained = scopes.filter((s) => s.constraints.length > 0)
    .map((s) => and(typeIn([s.resourceType], type, row), constraintRows(s, type, row, aliases)));
  return and(or(open, ...constrained), recordsOf(p, context, type, row));
}

function typeIn(types: readonly string[], type: string | undefined, row: Sql): Sql {
  if (types.length === 0) return FALSE;
  if (types.includes('*')) return TRUE;
  if (type !== undefined) return types.includes(type) ? TRUE : FALSE;
  return types.length === 1 ? sql`${row}.type = ${types[0]}` : sql`${row}.type = ANY(${types}::text[])`;
}

/** Rows in the patient records a context opens; rows of types outside the Patient compartment pass. */
function recordsOf(p: Principal, context: ScopeContext, type: string | undefined, row: Sql): Sql {
  if (context === 'system') return TRUE;
  const inRecords = context === 'patient'
    // `= ANY`, not `@>`: a filter on the candidates the search's own indexes find, rather than a GIN scan of the whole
    // record that the planner would otherwise pick for a search already narrowed by patient (bench S).
    ? (p.launch.patient === undefined ? FALSE : sql`${`Patient/${p.launch.patient}`} = ANY(${row}.compartments)`)
    : userRecords(p.userId, row);
  if (type !== undefined) return isInPatientCompartmentDefinition(type) ? inRecords : TRUE;
  return or(sql`${row}.type <> ALL(${COMPARTMENT_TYPES}::text[])`, inRecords);
}

/**
 * The records the user's access policy opens (users.access_policy, auth/users/user-store.ts), read in the same
 * statement so a changed policy applies at once: `{*}` for all patients; an Organization's patients
 * (Patient.managingOrganization); a Patient user's own record, or the patient a RelatedPerson user is related to.
 * An unknown user opens nothing.
 */
function userRecords(userId: string | undefined, row: Sql): Sql {
  if (userId === undefined) return FALSE;
  const allowed = sql`(SELECT CASE u.access_policy->>'kind'
      WHEN 'all-patients' THEN ARRAY['*']
      WHEN 'organization' THEN ARRAY(SELECT 'Patient/' || pt.id FROM sp_reference ref JOIN resources pt ON pt.rid = ref.rid
        WHERE ref.p = 'Patient.organization' AND ref.target_type = 'Organization' AND ref.url IS NULL AND NOT pt.deleted
          AND ref.target_id = regexp_replace(u.access_policy->>'organization', '^Organization/', ''))
      WHEN 'own-compartment' THEN ARRAY(
        SELECT u.fhir_user WHERE u.fhir_user LIKE 'Patient/%'
        UNION ALL
        SELECT 'Patient/' || ref.target_id FROM resources rp JOIN sp_reference ref ON ref.rid = rp.rid
          WHERE u.fhir_user = 'RelatedPerson/' || rp.id AND rp.type = 'RelatedPerson' AND NOT rp.deleted
            AND ref.p = 'RelatedPerson.patient' AND ref.target_type = 'Patient' AND ref.url IS NULL)
      ELSE ARRAY[]::text[] END
    FROM users u WHERE u.id = ${userId})`;
  return sql`(${allowed} @> ARRAY['*'] OR ${row}.compartments && ${allowed})`;
}

/**
 * A granular scope's constraints as a predicate on the row (evaluated on the data itself, not narrowed again by the
 * principal). A constraint the server cannot evaluate makes the scope grant nothing (the authorization server refuses
 * such scopes up front: `constraintProblem`).
 */
function constraintRows(s: ResourceScope, type: string | undefined, row: Sql, aliases: Aliases): Sql {
  const on = s.resourceType !== '*' ? [s.resourceType] : type !== undefined ? [type] : RESOURCE_TYPES;
  let conditions: Condition[];
  try {
    conditions = parseConstraints(s, on);
  } catch {
    return FALSE;
  }
  return whereSql(conditions, row, { aliases, principal: SYSTEM_PRINCIPAL });
}

function parseConstraints(s: ResourceScope, on: readonly string[]): Condition[] {
  const now = new Date();
  return s.constraints.map((c) => parseCondition(on, c.name, decodeURIComponent(c.value), { now }));
}

/** Why a granular scope's constraints cannot be enforced (unknown parameter, bad value), or undefined when they can. */
export function constraintProblem(s: ResourceScope): string | undefined {
  if (s.constraints.length === 0) return undefined;
  try {
    parseConstraints(s, s.resourceType === '*' ? RESOURCE_TYPES : [s.resourceType]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Rows no patient-privacy Consent of their patient denies to this app (in force now, by app, type and label). The
 * Consents themselves are the preferences, not the data they protect: scopes alone decide who sees them.
 */
function consentRows(p: Principal, type: string | undefined, row: Sql): Sql {
  if (p.clientId === undefined) return TRUE;
  if (type !== undefined && (type === 'Consent' || !isInPatientCompartmentDefinition(type))) return TRUE;
  const securityKey = type !== undefined ? sql`${`${type}._security`}` : sql`${row}.type || '._security'`;
  const inForce = (cd: Sql) => sql`${cd}.lo <= now() AND now() < ${cd}.hi AND (${cd}.client_id IS NULL OR ${cd}.client_id = ${p.clientId})`;
  // The first EXISTS does not depend on the row: PostgreSQL runs it once per statement (an InitPlan), and when no
  // rule is in force for this app, the usual case, no row runs the second. The second implies the first, so the
  // predicate is the plain NOT EXISTS of the second; without the guard, a search ran it for every candidate row
  // (20-25% of bench S's statement, 2026-12-06).
  const notDenied = sql`NOT (EXISTS (SELECT 1 FROM consent_denials cda WHERE ${inForce(raw('cda'))})
    AND EXISTS (SELECT 1 FROM consent_denials cd
      WHERE cd.patient = ANY(${row}.compartments) AND ${inForce(raw('cd'))}
        AND (cd.resource_type IS NULL OR cd.resource_type = ${row}.type)
        AND (cd.label_code IS NULL OR EXISTS (SELECT 1 FROM sp_token cs WHERE cs.rid = ${row}.rid AND cs.p = ${securityKey}
          AND cs.code = cd.label_code AND (cd.label_system IS NULL OR cs.system = cd.label_system)))))`;
  return type !== undefined ? notDenied : or(sql`${row}.type = 'Consent'`, notDenied);
}
