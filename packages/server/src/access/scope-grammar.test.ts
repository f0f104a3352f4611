import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allows,
  describeScope,
  formatScope,
  narrowToRead,
  parseScope,
  parseScopeString,
  scopeCovers,
  scopesCover,
  type ResourceScope,
} from './scope-grammar.ts';

const LAB = 'category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

/** Parses a scope that must be a valid resource scope. */
function rs(raw: string): ResourceScope {
  const parsed = parseScope(raw);
  assert.equal(parsed.kind, 'resource', `${raw}: ${JSON.stringify(parsed)}`);
  return parsed as ResourceScope;
}

describe('parseScope: resource scopes', () => {
  it('parses a v2 scope into its parts', () => {
    assert.deepEqual(parseScope('patient/Observation.rs'), {
      kind: 'resource', raw: 'patient/Observation.rs', context: 'patient', resourceType: 'Observation', permissions: 'rs', version: 2, constraints: [],
    });
  });

  it('accepts every non-empty in-order subset of cruds', () => {
    for (const letters of ['c', 'r', 'u', 'd', 's', 'cu', 'rs', 'cud', 'cruds', 'crs', 'ds']) {
      assert.equal(rs(`user/Patient.${letters}`).permissions, letters);
    }
  });

  it('parses v1 read, write and * as rs, cud and cruds, and remembers the v1 form', () => {
    assert.deepEqual(parseScope('patient/Observation.read'), {
      kind: 'resource', raw: 'patient/Observation.read', context: 'patient', resourceType: 'Observation', permissions: 'rs', version: 1, constraints: [],
    });
    assert.equal(rs('user/*.write').permissions, 'cud');
    assert.equal(rs('system/*.*').permissions, 'cruds');
    assert.equal(rs('system/*.*').version, 1);
  });

  it('gives v1 and v2 spellings the same meaning', () => {
    for (const [v1, v2] of [['patient/*.read', 'patient/*.rs'], ['user/Encounter.write', 'user/Encounter.cud'], ['system/Patient.*', 'system/Patient.cruds']]) {
      const a = rs(v1);
      const b = rs(v2);
      assert.deepEqual([a.context, a.resourceType, a.permissions, a.constraints], [b.context, b.resourceType, b.permissions, b.constraints]);
      assert.deepEqual([a.version, b.version], [1, 2]);
      assert.ok(scopeCovers(a, b) && scopeCovers(b, a), `${v1} ≡ ${v2}`);
    }
  });

  it('accepts the three contexts and the * wildcard type', () => {
    assert.deepEqual(['patient/*.rs', 'user/*.rs', 'system/*.rs'].map((s) => [rs(s).context, rs(s).resourceType]), [
      ['patient', '*'], ['user', '*'], ['system', '*'],
    ]);
  });

  it('keeps granular constraints parsed and the query verbatim', () => {
    const s = rs(`patient/Observation.rs?${LAB}&status=final`);
    assert.deepEqual(s.constraints, [
      { name: 'category', value: 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory' },
      { name: 'status', value: 'final' },
    ]);
    assert.equal(s.query, `${LAB}&status=final`);
    assert.equal(s.version, 2);
  });

  it('accepts constraints on a wildcard type and the modifiers and chains 2.2 calls experimental', () => {
    assert.deepEqual(rs('patient/*.rs?_security=R').constraints, [{ name: '_security', value: 'R' }]);
    assert.deepEqual(rs('patient/Observation.rs?code:in=http://valueset.example.org/ValueSet/diabetes-codes').constraints, [
      { name: 'code:in', value: 'http://valueset.example.org/ValueSet/diabetes-codes' },
    ]);
    assert.deepEqual(rs('user/Observation.rs?patient.birthdate=1990').constraints, [{ name: 'patient.birthdate', value: '1990' }]);
  });

  it('has no query property on an unconstrained scope', () => {
    assert.equal('query' in rs('patient/Observation.rs'), false);
  });
});

describe('parseScope: special scopes', () => {
  it('recognises identity, launch and refresh-token scopes', () => {
    const specials = ['openid', 'fhirUser', 'profile', 'email', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access', 'patient-privacy'];
    for (const raw of specials) assert.deepEqual(parseScope(raw), { kind: 'special', raw });
  });

  it('recognises launch/<lowercase R4 type>, with at most one role', () => {
    for (const raw of ['launch/imagingstudy', 'launch/list?role=https://example.org/med-list-at-home', 'launch/relatedperson?role=friend']) {
      assert.deepEqual(parseScope(raw), { kind: 'special', raw });
    }
  });
});

describe('parseScope: malformed scopes are reported, with a reason', () => {
  const cases: [string, string][] = [
    ['', 'empty scope'],
    ['patient/Observation.rsx', "permissions 'rsx' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.sr', "permissions 'sr' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.dus', "permissions 'dus' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.rr', "permissions 'rr' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.', "permissions '' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.READ', "permissions 'READ' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Observation.read.rs', "permissions 'read.rs' are neither read, write, * nor c, r, u, d, s in that order"],
    ['patient/Foo.read', "'Foo' is not an R4 resource type"],
    ['patient/observation.rs', "'observation' is not an R4 resource type"],
    ['patient/Resource.rs', "'Resource' is not an R4 resource type"],
    ['patient/SubscriptionStatus.rs', "'SubscriptionStatus' is not an R4 resource type"],
    ['patient/Observation', 'unknown scope'],
    ['admin/Observation.read', "unknown context 'admin' (expected patient, user or system)"],
    ['Patient/Observation.read', "unknown context 'Patient' (expected patient, user or system)"],
    ['patient/Observation.rs?', 'empty query after ?'],
    ['patient/Observation.read?category=x', "constraints need v2 permissions, not '.read'"],
    ['patient/Observation.*?category=x', "constraints need v2 permissions, not '.*'"],
    ['patient/Observation.rs?category', "constraint 'category' is not name=value"],
    ['patient/Observation.rs?category=', "constraint 'category=' is not name=value"],
    ['patient/Observation.rs?=laboratory', "constraint '=laboratory' is not name=value"],
    ['patient/Observation.rs?status=final&', "constraint '' is not name=value"],
    ['patient/Observation.rs?a=1&&b=2', "constraint '' is not name=value"],
    ['patient/Observation.rs\t', 'contains a character not allowed in an OAuth scope (RFC 6749 §3.3)'],
    ['patient/Observation.rs?code="x"', 'contains a character not allowed in an OAuth scope (RFC 6749 §3.3)'],
    ['patient/Observation.rs?code=é', 'contains a character not allowed in an OAuth scope (RFC 6749 §3.3)'],
    ['launch/foo', 'unknown launch context scope'],
    ['launch/Patient', 'unknown launch context scope'],
    ['launch/', 'unknown launch context scope'],
    ['launch/list?role=', 'unknown launch context scope'],
    ['launch/list?role=a&role=b', 'unknown launch context scope'],
    ['launch/patient?x=1', 'unknown launch context scope'],
    ['openid?x=1', 'unknown scope'],
    ['OPENID', 'unknown scope'],
    ['__profilePhoto.manage', 'unknown scope'],
    ['https://ehr.example.org/scopes/profilePhoto.manage', "unknown context 'https:' (expected patient, user or system)"],
  ];
  for (const [raw, reason] of cases) {
    it(`rejects ${JSON.stringify(raw)}`, () => {
      assert.deepEqual(parseScope(raw), { kind: 'invalid', raw, reason });
    });
  }
});

describe('parseScopeString', () => {
  it('sorts scopes into resource, special and invalid, in order', () => {
    const r = parseScopeString('openid fhirUser launch/patient patient/Observation.rs patient/Foo.read user/*.write offline_access bogus');
    assert.deepEqual(r.resource.map((s) => s.raw), ['patient/Observation.rs', 'user/*.write']);
    assert.deepEqual(r.special, ['openid', 'fhirUser', 'launch/patient', 'offline_access']);
    assert.deepEqual(r.invalid, [
      { kind: 'invalid', raw: 'patient/Foo.read', reason: "'Foo' is not an R4 resource type" },
      { kind: 'invalid', raw: 'bogus', reason: 'unknown scope' },
    ]);
  });

  it('ignores runs of spaces and leading or trailing spaces, and keeps a verbatim repeat once', () => {
    const r = parseScopeString('  openid   patient/*.rs openid patient/*.rs  ');
    assert.deepEqual(r.special, ['openid']);
    assert.deepEqual(r.resource.map((s) => s.raw), ['patient/*.rs']);
    assert.deepEqual(r.invalid, []);
  });

  it('keeps equivalent but differently written scopes apart', () => {
    assert.deepEqual(parseScopeString('patient/*.read patient/*.rs').resource.map((s) => s.raw), ['patient/*.read', 'patient/*.rs']);
  });

  it('treats other whitespace as part of a token', () => {
    assert.deepEqual(parseScopeString('openid\tpatient/*.rs').invalid.map((s) => s.raw), ['openid\tpatient/*.rs']);
  });

  it('yields nothing for an empty string', () => {
    assert.deepEqual(parseScopeString(''), { resource: [], special: [], invalid: [] });
    assert.deepEqual(parseScopeString('   '), { resource: [], special: [], invalid: [] });
  });
});

describe('scopeCovers', () => {
  const covers = (granted: string, requested: string) => scopeCovers(rs(granted), rs(requested));

  it('covers the same scope and a subset of its permissions', () => {
    assert.equal(covers('patient/Observation.rs', 'patient/Observation.rs'), true);
    assert.equal(covers('patient/Observation.cruds', 'patient/Observation.r'), true);
    assert.equal(covers('patient/Observation.cruds', 'patient/Observation.cud'), true);
    assert.equal(covers('patient/Observation.read', 'patient/Observation.s'), true);
  });

  it('does not cover more permissions than granted', () => {
    assert.equal(covers('patient/Observation.rs', 'patient/Observation.rds'), false);
    assert.equal(covers('patient/Observation.r', 'patient/Observation.rs'), false);
    assert.equal(covers('patient/Observation.read', 'patient/Observation.write'), false);
  });

  it('lets a * type cover any type, but not the reverse', () => {
    assert.equal(covers('patient/*.rs', 'patient/Observation.rs'), true);
    assert.equal(covers('patient/*.rs', 'patient/*.r'), true);
    assert.equal(covers('patient/Observation.rs', 'patient/*.rs'), false);
    assert.equal(covers('patient/Observation.rs', 'patient/Condition.rs'), false);
  });

  it('never crosses contexts', () => {
    assert.equal(covers('user/*.cruds', 'patient/Observation.r'), false);
    assert.equal(covers('system/*.cruds', 'user/Observation.r'), false);
    assert.equal(covers('patient/*.cruds', 'system/Observation.r'), false);
  });

  it('lets an unconstrained grant cover a constrained request, not the reverse', () => {
    assert.equal(covers('patient/Observation.rs', `patient/Observation.rs?${LAB}`), true);
    assert.equal(covers('patient/*.read', `patient/Observation.r?${LAB}`), true);
    assert.equal(covers(`patient/Observation.rs?${LAB}`, 'patient/Observation.rs'), false);
  });

  it('requires every granted constraint in the request, verbatim', () => {
    assert.equal(covers(`patient/Observation.rs?${LAB}`, `patient/Observation.rs?${LAB}`), true);
    assert.equal(covers(`patient/Observation.rs?${LAB}`, `patient/Observation.rs?status=final&${LAB}`), true);
    assert.equal(covers(`patient/Observation.rs?${LAB}&status=final`, `patient/Observation.rs?${LAB}`), false);
    assert.equal(covers(`patient/Observation.rs?${LAB}`, 'patient/Observation.rs?category=laboratory'), false);
    assert.equal(covers('patient/Observation.rs?category=laboratory', 'patient/Observation.rs?category=laboratory,vital-signs'), false);
  });
});

describe('scopesCover', () => {
  it('combines the permissions of several granted scopes', () => {
    const granted = [rs('patient/Observation.rs'), rs('patient/*.cud')];
    assert.equal(scopesCover(granted, rs('patient/Observation.cruds')), true);
    assert.equal(scopesCover(granted, rs('patient/Condition.cruds')), false);
    assert.equal(scopesCover(granted, rs('patient/Condition.cud')), true);
  });

  it('combines only grants whose constraints the request carries', () => {
    const granted = [rs(`patient/Observation.r?${LAB}`), rs('patient/Observation.s')];
    assert.equal(scopesCover(granted, rs(`patient/Observation.rs?${LAB}`)), true);
    assert.equal(scopesCover(granted, rs('patient/Observation.rs')), false);
  });

  it('covers nothing with no grants', () => {
    assert.equal(scopesCover([], rs('patient/Observation.r')), false);
  });
});

describe('allows', () => {
  const scopes = [rs('patient/Observation.rs'), rs('patient/*.r'), rs(`patient/Observation.cu?${LAB}`), rs('user/Condition.cruds')];

  it('returns the scopes granting the permission on the type', () => {
    assert.deepEqual(allows(scopes, 'patient', 'Observation', 'r').map((s) => s.raw), ['patient/Observation.rs', 'patient/*.r']);
    assert.deepEqual(allows(scopes, 'patient', 'Observation', 's').map((s) => s.raw), ['patient/Observation.rs']);
    assert.deepEqual(allows(scopes, 'patient', 'Condition', 'r').map((s) => s.raw), ['patient/*.r']);
    assert.deepEqual(allows(scopes, 'patient', 'Observation', 'c').map((s) => s.raw), [`patient/Observation.cu?${LAB}`]);
  });

  it('returns nothing when not allowed', () => {
    assert.deepEqual(allows(scopes, 'patient', 'Condition', 's'), []);
    assert.deepEqual(allows(scopes, 'patient', 'Observation', 'd'), []);
    assert.deepEqual(allows(scopes, 'system', 'Observation', 'r'), []);
    assert.deepEqual(allows(scopes, 'user', 'Observation', 'r'), []);
    assert.deepEqual(allows([], 'patient', 'Observation', 'r'), []);
  });
});

describe('formatScope', () => {
  it('round-trips every valid resource scope as written', () => {
    const scopes = [
      'patient/Observation.read', 'user/*.write', 'system/*.*', 'patient/*.read', 'patient/Observation.rs', 'user/Patient.cruds',
      'system/Encounter.cud', 'patient/*.s', `patient/Observation.rs?${LAB}`, `user/Observation.r?${LAB}&status=final`,
    ];
    for (const raw of scopes) assert.equal(formatScope(rs(raw)), raw);
  });

  it('writes v2 letters for a v1 scope whose permissions have no v1 name', () => {
    assert.equal(formatScope({ ...rs('patient/Observation.read'), permissions: 'r' }), 'patient/Observation.r');
  });

  it('writes a v2 scope in v2 form even when its permissions have a v1 name', () => {
    assert.equal(formatScope(rs('user/*.cruds')), 'user/*.cruds');
    assert.equal(formatScope(rs('user/*.cud')), 'user/*.cud');
  });
});

describe('narrowToRead', () => {
  it('keeps r and s, dropping c, u and d', () => {
    assert.deepEqual(narrowToRead(rs('patient/Observation.cruds')), rs('patient/Observation.rs'));
    assert.deepEqual(narrowToRead(rs('user/Observation.cr')), rs('user/Observation.r'));
    assert.deepEqual(narrowToRead(rs('patient/Observation.rs')), rs('patient/Observation.rs'));
  });

  it('keeps the v1 form', () => {
    assert.deepEqual(narrowToRead(rs('patient/*.*')), rs('patient/*.read'));
    assert.equal(narrowToRead(rs('patient/*.*'))?.raw, 'patient/*.read');
  });

  it('keeps the constraints', () => {
    assert.deepEqual(narrowToRead(rs(`patient/Observation.cruds?${LAB}`)), rs(`patient/Observation.rs?${LAB}`));
  });

  it('returns null when nothing readable is left', () => {
    assert.equal(narrowToRead(rs('patient/Observation.cud')), null);
    assert.equal(narrowToRead(rs('user/*.write')), null);
    assert.equal(narrowToRead(rs('system/Patient.d')), null);
  });
});

describe('describeScope', () => {
  it('describes resource scopes by context, permissions and human type names', () => {
    assert.equal(describeScope('patient/Observation.rs'), "Read and search this patient's observations");
    assert.equal(describeScope('patient/Observation.read'), "Read and search this patient's observations");
    assert.equal(describeScope('patient/MedicationRequest.r'), "Read this patient's medication requests");
    assert.equal(describeScope('patient/ImagingStudy.s'), "Search this patient's imaging studies");
    assert.equal(describeScope('patient/Patient.rs'), "Read and search this patient's demographics");
    assert.equal(describeScope('user/AllergyIntolerance.cud'), 'Create, update and delete the allergy intolerances you can access');
    assert.equal(describeScope('system/Encounter.cu'), 'Create and update all encounters on this server');
    assert.equal(describeScope('user/EpisodeOfCare.r'), 'Read the episodes of care you can access');
  });

  it('warns that a wildcard includes kinds of data added later', () => {
    assert.equal(describeScope('patient/*.cruds'), "Read, search, create, update and delete all of this patient's data, including kinds of data added later");
    assert.equal(describeScope('user/*.read'), 'Read and search all data you can access, including kinds of data added later');
    assert.equal(describeScope('system/*.rs'), 'Read and search all data on this server, including kinds of data added later');
  });

  it('mentions the constraints, without token systems', () => {
    assert.equal(describeScope(`patient/Observation.rs?${LAB}`), "Read and search this patient's observations (only where category is laboratory)");
    assert.equal(
      describeScope('patient/Observation.rs?category=laboratory,vital-signs&status=final'),
      "Read and search this patient's observations (only where category is laboratory or vital-signs and status is final)",
    );
  });

  it('describes special scopes', () => {
    assert.deepEqual(
      ['openid', 'fhirUser', 'profile', 'email', 'launch', 'launch/patient', 'launch/diagnosticreport', 'offline_access', 'online_access', 'patient-privacy']
        .map(describeScope),
      [
        'Know who you are',
        'Know who you are in this system (your user record)',
        'See your name',
        'See your email address',
        'Know what is open in the health record when it is launched from there',
        'Know which patient is open, or ask you to pick one',
        'Know which diagnostic report is open, or ask you to pick one',
        'Stay signed in even when you are not using it (long-lived access)',
        'Stay signed in while you are signed in here',
        "See this patient's privacy preferences",
      ],
    );
  });

  it('says so for a malformed scope', () => {
    assert.equal(describeScope('patient/Foo.read'), 'Unrecognised permission: patient/Foo.read');
  });
});
