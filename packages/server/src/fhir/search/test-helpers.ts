// Shared by the search tests: load fixtures through ResourceService, run searches, read Bundles.
import assert from 'node:assert/strict';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import type { Database } from '../../store/database.ts';
import { testDatabase } from '../../test-support/database.ts';
import { FhirError } from '../errors.ts';
import { ResourceService } from '../resource-service.ts';
import { searchBundle, type SearchRequest } from './search-service.ts';

export const BASE = 'http://fk.test/fhir';

export interface Bundle {
  resourceType: 'Bundle';
  type: string;
  total?: number;
  link: { relation: string; url: string }[];
  entry?: { fullUrl: string; resource: Record<string, unknown> & { resourceType: string; id: string }; search: { mode: string } }[];
}

export type Resource = Record<string, unknown> & { resourceType: string; id: string };

export async function setup(clock?: () => Date): Promise<{ db: Database; svc: ResourceService }> {
  const db = await testDatabase();
  return { db, svc: new ResourceService(db, { clock }) };
}

/** Writes resources with the ids they carry (update-as-create), in order. */
export async function load(svc: ResourceService, ...resources: Resource[]): Promise<void> {
  for (const r of resources) await svc.update(SYSTEM_PRINCIPAL, r.resourceType, r.id, r);
}

export async function search(db: Database, type: string | undefined, query: string, opts: Partial<Omit<SearchRequest, 'params' | 'type'>> = {}): Promise<Bundle> {
  const json = await searchBundle(db, SYSTEM_PRINCIPAL, { type, params: new URLSearchParams(query), strict: opts.strict ?? false, compartment: opts.compartment, now: opts.now }, BASE);
  return JSON.parse(json) as Bundle;
}

/** The ids of the matches, in Bundle order. */
export function ids(b: Bundle): string[] {
  return (b.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource.id);
}

/** `Type/id` of the included resources, sorted. */
export function included(b: Bundle): string[] {
  return (b.entry ?? []).filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
}

/** Ids of a search's matches, sorted (for searches whose order does not matter). */
export async function found(db: Database, type: string, query: string): Promise<string[]> {
  return ids(await search(db, type, query)).sort();
}

export function link(b: Bundle, relation: string): string | undefined {
  return b.link.find((l) => l.relation === relation)?.url;
}

/** The query string of a link, for following it. */
export function queryOf(url: string): string {
  return url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
}

export async function rejects(p: Promise<unknown>, status: number, diagnostics: RegExp): Promise<FhirError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FhirError, `expected a FhirError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.match(err.issues[0]!.diagnostics, diagnostics);
    return err;
  }
  assert.fail('expected the search to fail');
}

export const patient = (id: string, extra: Record<string, unknown> = {}): Resource => ({ resourceType: 'Patient', id, ...extra });

export function observation(id: string, subject: string | undefined, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    ...(subject ? { subject: { reference: subject } } : {}),
    ...extra,
  };
}
