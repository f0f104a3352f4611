// The launch context a grant carries into its tokens (SMART App Launch 2.2 §Launch context arrives with your
// access_token): from the EHR's launch record when `launch` was granted, from the pickers for `launch/patient` and
// `launch/encounter`, and the user's FHIR identity (`fhirUser`, absolute).
import type { TokenContext } from './access-token.ts';
import type { AuthorizationParams } from './authorization-request.ts';
import type { InteractionProgress } from './interaction-store.ts';
import type { User } from './users/user-store.ts';

export function launchContextFor(params: AuthorizationParams, progress: InteractionProgress, scopes: readonly string[], user: User, fhirBase: string): TokenContext {
  const context: TokenContext = {};
  const launch = scopes.includes('launch') ? params.launch?.context : undefined;
  if (launch) Object.assign(context, launch);
  if (scopes.includes('launch/patient')) {
    const patient = launch?.patient ?? progress.patient;
    if (patient) context.patient = patient;
    // A standalone app has no EHR banner around it: it should show the patient (unless the EHR launch said otherwise).
    context.need_patient_banner ??= true;
  }
  if (scopes.includes('launch/encounter')) {
    const encounter = launch?.encounter ?? progress.encounter;
    if (encounter) context.encounter = encounter;
  }
  if (user.fhirUser) context.fhirUser = `${fhirBase}/${user.fhirUser}`;
  return context;
}

/** The fields of the token response that carry launch context (SMART App Launch 2.2 table "Launch context"). */
export const RESPONSE_CONTEXT_FIELDS = ['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'tenant'] as const;
