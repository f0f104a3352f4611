import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from '../test-support/app.ts';
import { checkPassword, listUsers } from '../auth/users/user-store.ts';
import { ensureSandboxUsers } from './sandbox-users.ts';

describe('sandbox users', () => {
  it('links the clinician and the patient to seeded resources, with working passwords, once', async () => {
    const t = await testApp();
    await t.request('PUT', '/fhir/Practitioner/p1', { resourceType: 'Practitioner', id: 'p1', name: [{ given: ['Gale'], family: 'Hart' }] });
    await t.request('PUT', '/fhir/Patient/a1', { resourceType: 'Patient', id: 'a1', name: [{ given: ['Ida'], family: 'Moss' }] });
    const users = await ensureSandboxUsers(t.db);
    assert.deepEqual(users.map((u) => [u.username, u.name, u.fhirUser]), [
      ['clinician', 'Gale Hart', 'Practitioner/p1'], ['patient', 'Ida Moss', 'Patient/a1'], ['admin', 'Sandbox Administrator', undefined],
    ]);
    for (const u of users) assert.equal((await checkPassword(t.db, u.username, u.password))?.username, u.username);
    assert.equal((await checkPassword(t.db, 'clinician', 'wrong-password')), undefined);
    await ensureSandboxUsers(t.db);
    assert.equal((await listUsers(t.db)).length, 3, 'a second start creates nobody');
    assert.deepEqual((await listUsers(t.db)).find((u) => u.username === 'patient')?.accessPolicy, { kind: 'own-compartment' });
  });
});
