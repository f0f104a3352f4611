// AuditEvent ids: UUIDv7 (RFC 9562), in the order they were made, even thousands within one millisecond and across
// refills of the random pool, with random bits that are never handed out twice.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { validate, version } from 'uuid';
import { newAuditEventId } from './audit-event-id.ts';

/** The id's first 48 bits: its Unix time in milliseconds. */
const msecsOf = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('newAuditEventId', () => {
  it('makes valid version 7 UUIDs carrying the time they were made', () => {
    for (let i = 0; i < 100; i++) {
      const before = Date.now();
      const id = newAuditEventId();
      const after = Date.now();
      assert.ok(validate(id) && version(id) === 7, id);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(msecsOf(id) >= before && msecsOf(id) <= after, `${id}: ${msecsOf(id)} not in [${before}, ${after}]`);
    }
  });

  it('keeps ids in order and distinct when many are made in one millisecond, across refills of the random pool', () => {
    const ids = Array.from({ length: 5000 }, newAuditEventId); // about 20 refills, most ids sharing a millisecond
    assert.ok(new Set(ids.map(msecsOf)).size < ids.length, 'some ids share a millisecond (else this test shows nothing)');
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} then ${ids[i]}`);
    // The last 48 bits are random bytes as drawn: a byte range handed out twice would repeat them.
    assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length);
  });

  it('stays in order when the clock steps back, on the last millisecond it saw', () => {
    const now = Date.now() + 60_000; // later than any id made so far
    const clock = mock.method(Date, 'now', () => now);
    try {
      const first = newAuditEventId();
      clock.mock.mockImplementation(() => now - 5_000);
      const second = newAuditEventId();
      assert.ok(first < second, `${first} then ${second}`);
      assert.equal(msecsOf(second), now);
      clock.mock.mockImplementation(() => now + 1);
      const third = newAuditEventId();
      assert.equal(msecsOf(third), now + 1);
      assert.ok(second < third);
    } finally {
      clock.mock.restore();
    }
  });
});
