// AuditEvent ids, which are also the request ids sent back as `X-Request-Id`: UUIDv7 (RFC 9562 §5.7), ordered by
// time. The trail only grows, and with time-ordered ids each AuditEvent's entry in the `resources (type, id)` index
// lands beside the last one instead of on a random page of an index that grows with the trail: under S this halved
// the pages PostgreSQL had to read back into its buffers per request (docs/decisions.md, "Time-ordered AuditEvent ids").
//
// Every request makes one, so the random bits come from a pool filled by the CSPRNG 256 ids at a time: `uuid`'s own
// source asks `crypto.getRandomValues` for 16 bytes per id, about 5 µs on this project's VMs and 8–10 µs per request
// under load (docs/benchmarks.md, 2026-12-07 10:52 UTC). Given its random bits, `uuid` no longer keeps ids in order
// within a millisecond, so the counter that does is kept here, as `uuid` keeps it.
import { randomFillSync } from 'node:crypto';
import { v7 as uuidV7 } from 'uuid';

const ID_BYTES = 16;
const pool = new Uint8Array(ID_BYTES * 256);
let taken = pool.length;

/** 16 bytes from the CSPRNG, never handed out twice. */
function randomBytes16(): Uint8Array {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const bytes = pool.subarray(taken, taken + ID_BYTES);
  taken += ID_BYTES;
  return bytes;
}

// RFC 9562 §6.2, method 1: a counter in the bits after the version, started from random bits in each new millisecond
// and incremented within one. Should the clock step back, the last millisecond is kept and the counter goes on.
let lastMsecs = -Infinity;
let seq = 0;

export function newAuditEventId(): string {
  const random = randomBytes16();
  const now = Date.now();
  if (now > lastMsecs) {
    lastMsecs = now;
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) lastMsecs++;
  }
  return uuidV7({ msecs: lastMsecs, seq, random });
}
