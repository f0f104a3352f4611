// `firekeeper audit verify`: walks the hash chain in order, recomputing each link from the AuditEvent as stored,
// and reports the first link that does not hold. An edited record breaks its own link; a deleted record is missing;
// a link removed from the chain breaks the next one (its hash no longer follows from the one before).
// What a chain cannot show on its own: the newest links removed all together, or a chain recomputed by someone who
// can write the database; keeping a copy of the last hash elsewhere (`head`) covers the first.
import type { Queryable } from '../store/database.ts';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain.ts';

export type VerifyResult =
  | { ok: true; records: number; head: string }
  | { ok: false; records: number; seq: string | null; id: string; reason: string };

const PAGE = 1000;

interface Link {
  seq: string;
  id: string;
  hash: string;
  json: string | null;
}

export async function verifyAuditTrail(q: Queryable): Promise<VerifyResult> {
  let previous = GENESIS_HASH;
  let afterSeq = '0';
  let records = 0;
  for (;;) {
    const links = await q.query<Link>(
      `SELECT c.seq::text AS seq, c.event_id AS id, c.hash, r.resource::text AS json
         FROM audit_chain c LEFT JOIN resources r ON r.rid = c.rid AND r.type = 'AuditEvent' AND r.id = c.event_id AND NOT r.deleted
        WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT ${PAGE}`,
      [afterSeq],
    );
    for (const link of links) {
      if (link.json === null) return { ok: false, records, seq: link.seq, id: link.id, reason: 'missing record: the AuditEvent of this link is gone' };
      const expected = chainHash(previous, canonicalJson(JSON.parse(link.json)));
      if (expected !== link.hash) {
        return { ok: false, records, seq: link.seq, id: link.id, reason: 'hash mismatch: the record was altered, or the link before it removed' };
      }
      previous = link.hash;
      records++;
    }
    if (links.length < PAGE) break;
    afterSeq = links[links.length - 1]!.seq;
  }
  const unchained = await q.query<{ id: string }>(
    `SELECT r.id FROM resources r WHERE r.type = 'AuditEvent' AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.rid = r.rid) LIMIT 1`,
  );
  if (unchained[0]) return { ok: false, records, seq: null, id: unchained[0].id, reason: 'not in the chain: an AuditEvent written outside the audit log' };
  return { ok: true, records, head: previous };
}

/** The lines `firekeeper audit verify` prints, and its exit code. */
export function formatVerifyResult(r: VerifyResult): { text: string; exitCode: 0 | 1 } {
  if (r.ok) return { text: `audit trail intact: ${r.records} records (head ${r.head})\n`, exitCode: 0 };
  const where = r.seq === null ? `AuditEvent/${r.id}` : `link ${r.seq} (AuditEvent/${r.id})`;
  return { text: `audit trail broken at ${where}: ${r.reason}\n${r.records} records verified before it\n`, exitCode: 1 };
}
