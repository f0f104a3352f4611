// The FHIR interactions on single resources (read, vread, create, update, patch, delete, conditional
// create/update, history), free of HTTP types. Each write runs in one database transaction; callers
// that already hold one (transaction Bundles) pass it in.
import { randomUUID } from 'node:crypto';
import jsonpatch from 'fast-json-patch';
import type { Principal } from '../access/principal.ts';
import { requirePermission } from '../access/scope-check.ts';
import { consentDenyRules } from '../access/consent-rules.ts';
import { rowAccess } from './search/access-filter.ts';
import { sql, TRUE } from './search/sql.ts';
import type { Database, Queryable } from '../store/database.ts';
import { lockCurrent, lockTypeForConditionalWrite, readCurrent, readVersion, writeVersion, type StoredVersion } from '../store/repository.ts';
import { extractIndexRows } from './index-extract.ts';
import { isInPatientCompartmentDefinition } from './search-parameters.ts';
import { badRequest, FhirError, gone, notFound, preconditionFailed } from './errors.ts';
import { checkResourceBody, isValidId, relativeReferences, validateResource, type JsonObject } from './validation.ts';
import { matchIds } from './search/search-service.ts';

export type Resource = JsonObject & { resourceType: string; id?: string };

export interface WriteResult {
  stored: StoredVersion;
  /** 201 for a new resource, 200 for an update or a conditional create that matched. */
  status: 200 | 201;
}

export interface WriteOptions {
  /** `If-Match` version (already stripped of `W/"…"`). */
  ifMatch?: string;
  /**
   * When given, relative references are collected here instead of being checked at once: a transaction
   * Bundle checks them after all its entries are written, so entries may reference each other in any order.
   */
  pendingReferences?: PendingReference[];
}

export type PendingReference = { type: string; id: string; path: string };

export class ResourceService {
  private readonly clock: () => Date;

  constructor(
    readonly db: Database,
    /** `fhirBase` lets conditional criteria match absolute references to this server. */
    private readonly opts: { fhirBase?: string; clock?: () => Date } = {},
  ) {
    this.clock = opts.clock ?? (() => new Date());
  }

  // Reads of a resource the principal may not see answer exactly as for one that does not exist (no existence leak).
  async read(principal: Principal, type: string, id: string, q: Queryable = this.db): Promise<StoredVersion> {
    requirePermission(principal, type, 'r');
    const current = await readCurrent(q, type, id, rowAccess(principal, type, 'r'));
    if (!current?.visible) throw notFound(`${type}/${id} is not known`);
    if (current.deleted) throw gone(`${type}/${id} was deleted`);
    return current;
  }

  async vread(principal: Principal, type: string, id: string, versionId: string): Promise<StoredVersion> {
    requirePermission(principal, type, 'r');
    const version = /^[1-9][0-9]{0,8}$/.test(versionId) ? await readVersion(this.db, type, id, Number(versionId), rowAccess(principal, type, 'r')) : undefined;
    if (!version?.visible) throw notFound(`${type}/${id}/_history/${versionId} is not known`);
    if (version.deleted) throw gone(`${type}/${id}/_history/${versionId} is a deletion`);
    return version;
  }

  /** create, or conditional create when `ifNoneExist` is given (R4 http.html#ccreate). */
  async create(principal: Principal, body: unknown, opts: WriteOptions & { ifNoneExist?: string; id?: string } = {}, tx?: Queryable): Promise<WriteResult> {
    const resource = checkResourceBody(body);
    checkWritable(resource.resourceType);
    requirePermission(principal, resource.resourceType, 'c');
    const ifNoneExist = opts.ifNoneExist;
    const insert = async (q: Queryable): Promise<WriteResult> => ({ stored: await this.store(q, principal, 'c', resource, opts.id ?? randomUUID(), undefined, 'POST', opts), status: 201 });
    // A plain create by the server is a single statement, atomic without an explicit transaction; an app's create is
    // checked against its access after the write, in the same transaction.
    if (ifNoneExist === undefined) return principal.kind === 'system' ? insert(tx ?? this.db) : this.inTx(tx, insert);
    return this.inTx(tx, async (q) => {
      const matches = await this.lockAndMatch(q, principal, resource.resourceType, ifNoneExist);
      if (matches.length > 1) throw new FhirError(412, 'multiple-matches', `If-None-Exist matched ${matches.length} resources`);
      if (matches.length === 1) return { stored: await this.read(principal, resource.resourceType, matches[0]!, q), status: 200 };
      return insert(q);
    });
  }

  /** update by id, creating the resource when it does not exist (R4 http.html#upsert). */
  async update(principal: Principal, type: string, id: string, body: unknown, opts: WriteOptions = {}, tx?: Queryable): Promise<WriteResult> {
    checkWritable(type);
    requirePermission(principal, type, 'u');
    const resource = checkResourceBody(body, type);
    if (resource.id === undefined) throw badRequest('The resource must have an id to be updated', [`${type}.id`]);
    if (resource.id !== id) throw badRequest(`The id in the body ('${String(resource.id)}') does not match the URL ('${id}')`, [`${type}.id`]);
    if (!isValidId(id)) throw badRequest(`'${id}' is not a valid FHIR id`, [`${type}.id`]);
    return this.inTx(tx, async (q) => {
      const current = await lockCurrent(q, type, id, rowAccess(principal, type, 'u'));
      if (current && !current.visible) throw writeRefused(type, 'update');
      checkIfMatch(current, opts.ifMatch);
      const stored = await this.store(q, principal, 'u', resource, id, current, 'PUT', opts);
      return { stored, status: current && !current.deleted ? 200 : 201 };
    });
  }

  /** conditional update: `PUT [type]?[search]` (R4 http.html#cond-update). */
  async conditionalUpdate(principal: Principal, type: string, query: string, body: unknown, opts: WriteOptions = {}, tx?: Queryable): Promise<WriteResult> {
    checkWritable(type);
    requirePermission(principal, type, 'u');
    const resource = checkResourceBody(body, type);
    return this.inTx(tx, async (q) => {
      const matches = await this.lockAndMatch(q, principal, type, query);
      if (matches.length > 1) throw new FhirError(412, 'multiple-matches', `The search matched ${matches.length} resources`);
      if (matches.length === 1) {
        if (resource.id !== undefined && resource.id !== matches[0]) {
          throw badRequest(`The id in the body ('${String(resource.id)}') does not match the resource found ('${matches[0]}')`, [`${type}.id`]);
        }
        return this.update(principal, type, matches[0]!, { ...resource, id: matches[0] }, opts, q);
      }
      if (resource.id !== undefined) return this.update(principal, type, String(resource.id), resource, opts, q);
      return { stored: await this.store(q, principal, 'u', resource, randomUUID(), undefined, 'PUT', opts), status: 201 };
    });
  }

  /** JSON Patch (RFC 6902) applied to the current version (R4 http.html#patch). */
  async patch(principal: Principal, type: string, id: string, operations: unknown, opts: WriteOptions = {}, tx?: Queryable): Promise<WriteResult> {
    checkWritable(type);
    requirePermission(principal, type, 'u');
    if (!Array.isArray(operations)) throw badRequest('A JSON Patch body must be an array of operations');
    return this.inTx(tx, async (q) => {
      const current = await lockCurrent(q, type, id, rowAccess(principal, type, 'u'));
      if (!current) throw notFound(`${type}/${id} is not known`);
      if (!current.visible) throw writeRefused(type, 'update');
      if (current.deleted) throw gone(`${type}/${id} was deleted`);
      checkIfMatch(current, opts.ifMatch);
      const patched = applyPatch(JSON.parse(current.json!) as Resource, operations);
      if (patched.resourceType !== type || patched.id !== id) throw badRequest('A patch may not change resourceType or id');
      const stored = await this.store(q, principal, 'u', checkResourceBody(patched, type), id, current, 'PATCH', opts);
      return { stored, status: 200 };
    });
  }

  /** delete: a versioned tombstone; deleting a missing or deleted resource succeeds (R4 http.html#delete). */
  async delete(principal: Principal, type: string, id: string, opts: WriteOptions = {}, tx?: Queryable): Promise<StoredVersion | undefined> {
    checkWritable(type);
    requirePermission(principal, type, 'd');
    return this.inTx(tx, async (q) => {
      const current = await lockCurrent(q, type, id, rowAccess(principal, type, 'd'));
      if (current && !current.visible) throw writeRefused(type, 'delete');
      checkIfMatch(current, opts.ifMatch);
      if (!current || current.deleted) return current;
      const version = current.version + 1;
      const lastUpdated = this.clock().toISOString();
      const { compartments } = current; // a tombstone stays in its patients' records
      const rid = (await writeVersion(q, { type, id, version, lastUpdated, method: 'DELETE', json: null, index: null, replaces: true, compartments }))!;
      return { rid, type, id, version, lastUpdated, deleted: true, json: null, compartments };
    });
  }

  private async inTx<T>(tx: Queryable | undefined, fn: (q: Queryable) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : this.db.transaction(fn);
  }

  /**
   * Serialises conditional writes on the same criteria across instances, then runs the search.
   * The lock is held to the end of the transaction, so two concurrent conditional creates cannot both create.
   */
  private async lockAndMatch(q: Queryable, principal: Principal, type: string, query: string): Promise<string[]> {
    const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
    if ([...params.keys()].length === 0) throw badRequest('A conditional interaction needs search criteria');
    requirePermission(principal, type, 's');
    await lockTypeForConditionalWrite(q, type);
    return matchIds(q, principal, type, params, this.opts.fhirBase);
  }

  /**
   * Validates, stamps id and meta, checks references, writes the new version, and checks that the principal may
   * leave it so (permission `c` or `u` on the row written: in its patient's record, within its constraints).
   */
  private async store(q: Queryable, principal: Principal, permission: 'c' | 'u', input: Resource, id: string, current: StoredVersion | undefined, method: 'POST' | 'PUT' | 'PATCH', opts: WriteOptions): Promise<StoredVersion> {
    const version = (current?.version ?? 0) + 1;
    const lastUpdated = this.clock().toISOString();
    const meta = { ...(isObject(input.meta) ? input.meta : {}), versionId: String(version), lastUpdated };
    const resource: Resource = { ...input, id, meta };
    validateResource(resource);
    const refs = relativeReferences(resource).filter((r) => !(r.type === resource.resourceType && r.id === id));
    opts.pendingReferences?.push(...refs);
    const json = JSON.stringify(resource);
    const index = extractIndexRows(resource);
    checkLaunchPatient(principal, resource.resourceType, index.compartments);
    const denials = consentDenyRules(resource);
    const references = opts.pendingReferences ? undefined : refs;
    const rid = await writeVersion(q, { type: resource.resourceType, id, version, lastUpdated, method, json, index, replaces: current !== undefined, references, denials });
    if (rid === undefined) {
      await checkReferencesExist(q, refs); // names the missing references
      throw new FhirError(409, 'conflict', `${resource.resourceType}/${id} changed while it was being written; retry`);
    }
    await checkWrittenRow(q, principal, resource.resourceType, rid, permission);
    return { rid, type: resource.resourceType, id, version, lastUpdated, deleted: false, json, compartments: index.compartments };
  }
}

/** The audit trail is append-only and written by the server alone (issue 4: AuditEvents cannot be changed through the API). */
function checkWritable(type: string): void {
  if (type === 'AuditEvent') throw new FhirError(405, 'not-supported', 'AuditEvent is read-only: the audit trail is written by the server and cannot be changed');
}

function writeRefused(type: string, verb: string, why = 'it is outside the records this access token may write'): FhirError {
  return new FhirError(403, 'forbidden', `This access token may not ${verb} this ${type}: ${why}`);
}

/** A `patient/`-only token writes into its launch patient's record (the common refusal, said precisely). */
function checkLaunchPatient(p: Principal, type: string, compartments: readonly string[]): void {
  const patient = p.launch.patient;
  if (p.kind !== 'user' || patient === undefined || !isInPatientCompartmentDefinition(type)) return;
  if (p.scopes.some((s) => s.startsWith('user/'))) return; // user/ scopes may place it elsewhere; the row check decides
  if (!compartments.includes(`Patient/${patient}`)) throw writeRefused(type, 'write', `it must belong to the record of Patient/${patient}, the patient in context`);
}

/** The row as written must be one the principal may write (checked in the writing transaction, which a refusal rolls back). */
async function checkWrittenRow(q: Queryable, p: Principal, type: string, rid: string, permission: 'c' | 'u'): Promise<void> {
  const filter = rowAccess(p, type, permission);
  if (filter === TRUE) return;
  const { text, params } = sql`SELECT ${filter} AS ok FROM resources r WHERE r.rid = ${rid}::bigint`.render();
  const [row] = await q.query<{ ok: boolean }>(text, params);
  if (!row?.ok) throw writeRefused(type, 'write');
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// R4 http.html#concurrency: a version mismatch is 412 Precondition Failed.
function checkIfMatch(current: StoredVersion | undefined, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  if (!current || current.deleted || String(current.version) !== ifMatch) {
    throw preconditionFailed(`If-Match version ${ifMatch} does not match the current version${current ? ` (${current.deleted ? 'deleted' : current.version})` : ''}`);
  }
}

function applyPatch(doc: Resource, operations: unknown[]): Resource {
  const error = jsonpatch.validate(operations as jsonpatch.Operation[], doc);
  if (error) throw new FhirError(422, 'processing', `Invalid JSON Patch: ${error.message.split('\n')[0]}`);
  try {
    return jsonpatch.applyPatch(doc, operations as jsonpatch.Operation[], false, false).newDocument;
  } catch (err) {
    // A failed `test` operation or a path that does not exist (RFC 6902 §5).
    throw new FhirError(422, 'processing', `JSON Patch failed: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Referential integrity: every relative reference must name a resource that exists and is not deleted. */
export async function checkReferencesExist(q: Queryable, refs: PendingReference[]): Promise<void> {
  if (refs.length === 0) return;
  const found = await q.query<{ k: string }>(
    `SELECT type || '/' || id AS k FROM resources
      WHERE NOT deleted AND (type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [refs.map((r) => r.type), refs.map((r) => r.id)],
  );
  const known = new Set(found.map((r) => r.k));
  const missing = refs.filter((r) => !known.has(`${r.type}/${r.id}`));
  if (missing.length) {
    throw new FhirError(400, 'not-found', `Reference to a resource that does not exist: ${missing[0]!.type}/${missing[0]!.id}`, {
      issues: missing.map((m) => ({ severity: 'error' as const, code: 'not-found' as const, diagnostics: `${m.type}/${m.id} does not exist`, expression: [m.path] })),
    });
  }
}
