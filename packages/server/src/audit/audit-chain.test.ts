// canonicalJson against the `canonicalize` package (an RFC 8785 implementation) on the values the audit trail
// hashes and on the corners of JCS: key order by UTF-16 code units, array-index keys, numbers, escapes, undefined.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import canonicalize from 'canonicalize';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain.ts';
import { buildAuditEvent } from './audit-event.ts';
import { auditRecordsOfEveryKind } from '../test-support/audit-records.ts';

describe('canonicalJson', () => {
  it('matches canonicalize on AuditEvents as the builder makes them', () => {
    const event = buildAuditEvent({
      kind: 'rest', id: 'e-1', recorded: '2026-11-22T10:00:00.000Z', interaction: 'search-type',
      actor: { userId: 'u-1', fhirUser: 'Practitioner/1', clientId: 'app', tokenId: 'j-1', address: '::1' },
      outcome: { status: 403, description: 'needs "patient/Observation.rs"' }, patients: ['Patient/9'], query: 'code=a%20b&_count=2',
    }, { baseUrl: 'https://ehr.example' });
    assert.equal(canonicalJson(event), canonicalize(event));
  });

  it('gets events of every kind from the builder with their keys already in canonical order (serialised as they are)', () => {
    // The builder's side of the bargain: canonicalJson writes such a value with one JSON.stringify, without a copy.
    for (const record of auditRecordsOfEveryKind()) {
      const event = buildAuditEvent(record, { baseUrl: 'https://ehr.example' });
      assert.equal(JSON.stringify(event), canonicalize(event), JSON.stringify(record));
    }
  });

  it('sorts keys by UTF-16 code units, not by code points or locale', () => {
    // U+20AC (one unit, 0x20AC) sorts before U+1F600 (units 0xD83D 0xDE00), which sorts before U+FB33 (0xFB33).
    const value = { '\uFB33': 1, '\u{1F600}': 2, '\u20AC': 3, B: 4, a: 5, é: 6 };
    assert.equal(canonicalJson(value), '{"B":4,"a":5,"\u00e9":6,"\u20ac":3,"\u{1F600}":2,"\uFB33":1}');
    assert.equal(canonicalJson(value), canonicalize(value));
  });

  const corners: [string, unknown][] = [
    ['array-index keys (JavaScript orders them first)', { b: 1, 10: 'x', 2: 'y', a: { 1: true, '01': false } }],
    ['numbers in ECMAScript form', { n: [0, -0, 1e21, 1e-7, 0.1 + 0.2, -1.5, 2 ** 53, 5e-324] }],
    ['escapes and control characters', { s: '"\\\n\t\u0001\u007f\u2028</script>' }],
    ['undefined members and array items', { a: undefined, b: [undefined, null, 1], c: null }],
    ['nested arrays of objects', [[{ z: 1, y: [{ b: 2, a: 1 }] }], []]],
    ['a Date (toJSON)', { when: new Date(Date.UTC(2026, 0, 2)), z: 1 }],
    ['keys in order, one of them an array index', { 1: 'x', a: { b: 1 } }],
    ['keys in order at the top, not below', { a: [{ c: 1, b: 2 }], b: null }],
    ['scalars', 'text'],
  ];
  for (const [name, value] of corners) {
    it(`agrees with canonicalize: ${name}`, () => {
      assert.equal(canonicalJson(value), canonicalize(value));
    });
  }

  it('refuses undefined', () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
  });
});

describe('chainHash', () => {
  it('is hex sha256 of the previous hash followed by the canonical text (sha256sum of 64 zeros and "{}")', () => {
    assert.equal(chainHash(GENESIS_HASH, '{}'), '5508d2b710e64bc470079e1b211d9c58e21011e59d0559e422345dc19d659a75');
  });
});
