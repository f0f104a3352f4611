// Reads what the report needs from a FHIR server, every page of each search, with `system/` scopes: all patients,
// the hypertension Conditions, the blood-pressure panels and the Immunizations with a measured vaccine. Narrowed by
// code on the server, so a large population sends only what is counted. (When the server offers bulk data
// `$export`, that is the better way to read a whole population; Firekeeper does not offer it yet.)
import type { FhirClient } from '@firekeeper/client';
import { BP_PANEL, HYPERTENSION_CODES, VACCINES, type PopulationData } from './measures.ts';

/** The scopes the report needs: read and search, nothing else (SMART v2 form). */
export const REPORT_SCOPE = 'system/Patient.rs system/Condition.rs system/Observation.rs system/Immunization.rs';

const CVX = 'http://hl7.org/fhir/sid/cvx';
const tokens = (codes: readonly { system: string; code: string }[]) => codes.map((c) => `${c.system}|${c.code}`).join(',');

export async function fetchPopulation(fhir: FhirClient, pageSize = 500): Promise<PopulationData> {
  const page = String(pageSize);
  const [patients, conditions, observations, immunizations] = await Promise.all([
    fhir.searchAll('Patient', { _count: page }),
    fhir.searchAll('Condition', { code: tokens(HYPERTENSION_CODES), _count: page }),
    fhir.searchAll('Observation', { code: tokens([BP_PANEL]), _count: page }),
    fhir.searchAll('Immunization', { 'vaccine-code': tokens(VACCINES.flatMap((v) => v.cvx.map((code) => ({ system: CVX, code })))), _count: page }),
  ]);
  return { patients, conditions, observations, immunizations };
}
