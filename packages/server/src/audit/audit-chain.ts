// The hash chain that makes the audit trail tamper-evident: each link is sha256(previous link's hash + the RFC 8785
// canonical JSON of the AuditEvent). Canonical JSON because the stored copy is jsonb, which does not keep key order:
// the verifier re-canonicalises what it reads and must get the same bytes that were hashed at write time.
// @see https://www.rfc-editor.org/rfc/rfc8785
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The "previous hash" of the first link. */
export const GENESIS_HASH = '0'.repeat(64);

// An array-index-like key ("0", "17"): JavaScript objects list these first, in numeric order, whatever the order of
// insertion, so a copy with sorted keys would not keep the sorted order.
const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

/**
 * RFC 8785 (JCS) serialisation: keys sorted by UTF-16 code units (§3.2.3, which is what Array.prototype.sort does),
 * strings and numbers as ECMAScript's JSON.stringify writes them (§3.2.2), no whitespace. Done as one JSON.stringify
 * of a copy whose keys were inserted in sorted order (about 3× faster than a serialiser that concatenates strings:
 * `firekeeper audit verify` runs it on every event); values that such a copy cannot represent (array-index keys,
 * `toJSON`) go to the `canonicalize` package. audit-chain.test.ts checks the two agree.
 */
export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  const text = copy === FALLBACK ? canonicalize(value) : JSON.stringify(copy);
  if (text === undefined) throw new TypeError('cannot canonicalise an undefined value');
  return text;
}

const FALLBACK = Symbol('fallback');

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('toJSON' in value && typeof value.toJSON === 'function') return FALLBACK;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i]);
      if (item === FALLBACK) return FALLBACK;
      out[i] = item;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (INDEX_KEY.test(key)) return FALLBACK;
    const item = sortedCopy((value as Record<string, unknown>)[key]);
    if (item === FALLBACK) return FALLBACK;
    out[key] = item;
  }
  return out;
}

/** hash_n = hex(sha256(hash_{n-1} || canonical JSON of event n)); `audit_append` (migration 023) computes the same when it appends. */
export function chainHash(previous: string, canonical: string): string {
  return createHash('sha256').update(previous).update(canonical).digest('hex');
}
