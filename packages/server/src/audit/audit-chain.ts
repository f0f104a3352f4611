// The hash chain that makes the audit trail tamper-evident: each link is sha256(previous link's hash + the RFC 8785
// canonical JSON of the AuditEvent). Canonical JSON because the stored copy is jsonb, which does not keep key order:
// the verifier re-canonicalises what it reads and must get the same bytes that were hashed at write time.
// @see https://www.rfc-editor.org/rfc/rfc8785
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The "previous hash" of the first link. */
export const GENESIS_HASH = '0'.repeat(64);

/** RFC 8785 (JCS) serialisation: keys sorted by UTF-16 code units, ECMAScript number form, no whitespace. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('cannot canonicalise an undefined value');
  return text;
}

/** hash_n = hex(sha256(hash_{n-1} || canonical JSON of event n)). */
export function chainHash(previous: string, canonical: string): string {
  return createHash('sha256').update(previous).update(canonical).digest('hex');
}
