// What the app asks for (v2, or v1 for a server without permission-v2) and how it reads what was granted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readable, requestedScope } from './scopes.ts';

describe('point-of-care scopes', () => {
  it('asks for read and search on the five types it shows, in v2 or v1 form, with the launch scope of the launch kind', () => {
    assert.equal(requestedScope({ v2: true, standalone: false }), 'openid fhirUser launch patient/Patient.r patient/Observation.rs patient/MedicationRequest.rs patient/AllergyIntolerance.rs patient/Condition.rs');
    assert.equal(requestedScope({ v2: false, standalone: true }), 'openid fhirUser launch/patient patient/Patient.read patient/Observation.read patient/MedicationRequest.read patient/AllergyIntolerance.read patient/Condition.read');
  });

  it('reads a granted scope: v1 and v2, wildcards, granular, user/; not write-only, other types or system/', () => {
    assert.equal(readable('patient/Observation.rs', 'Observation'), true);
    assert.equal(readable('patient/Observation.read', 'Observation'), true);
    assert.equal(readable('user/*.cruds', 'Observation'), true);
    assert.equal(readable('patient/*.*', 'Condition'), true);
    assert.equal(readable('patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs', 'Observation'), true);
    assert.equal(readable('patient/Patient.r', 'Patient'), true);
    assert.equal(readable('patient/Observation.r', 'Observation'), false, 'no search');
    assert.equal(readable('patient/Observation.cud', 'Observation'), false);
    assert.equal(readable('patient/Observation.write', 'Observation'), false);
    assert.equal(readable('patient/Condition.rs', 'Observation'), false);
    assert.equal(readable('system/Observation.rs', 'Observation'), false);
    assert.equal(readable('patient/Observation.sr', 'Observation'), false, 'v2 letters must be in order');
  });
});
