// The audit log on a real database: batched appends, the hash chain across batches and writers, and
// `verifyAuditTrail` finding an edited, a deleted or an unchained record.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDatabase } from '../test-support/database.ts';
import type { Database } from '../store/database.ts';
import { AuditLog, JtiNotRecorded } from './audit-log.ts';
import { registerClient, setClientStatus } from '../auth/clients/client-store.ts';
import { newClientKey } from '../test-support/backend-client.ts';
import { canonicalJson, chainHash, GENESIS_HASH } from './audit-chain.ts';
import { verifyAuditTrail, formatVerifyResult } from './audit-verify.ts';
import type { AuditRecord } from './audit-event.ts';

let db: Database;
before(async () => {
  db = await testDatabase();
});

const SOURCE = { baseUrl: 'http://firekeeper.test' };

function record(n: number, patient = `p-${n % 3}`): AuditRecord {
  return {
    kind: 'rest', id: randomUUID(), recorded: new Date(Date.UTC(2026, 10, 22, 10, 0, 0, n)).toISOString(), interaction: 'read',
    actor: { userId: 'u-1', fhirUser: 'Practitioner/pr-1', clientId: 'app', address: '127.0.0.1' }, outcome: { status: 200 },
    patients: [`Patient/${patient}`], target: `Observation/o-${n}/_history/1`,
  };
}

async function chain(): Promise<{ seq: string; id: string; hash: string; json: string }[]> {
  return db.query(`SELECT c.seq::text AS seq, c.event_id AS id, c.hash, r.resource::text AS json
                     FROM audit_chain c JOIN resources r ON r.rid = c.rid ORDER BY c.seq`);
}

describe('AuditLog', () => {
  it('commits concurrent records in shared batches, each caller resolving after its commit, in one chain', async () => {
    const log = new AuditLog(db, { source: SOURCE });
    const records = Array.from({ length: 50 }, (_, i) => record(i));
    await Promise.all(records.map((r) => log.record(r)));
    assert.ok(log.stats.batches < 50, `batched: ${JSON.stringify(log.stats)}`);
    const links = await chain();
    assert.deepEqual(links.map((l) => l.id), records.map((r) => r.id), 'chain order is the order of record() calls');
    assert.deepEqual(links.map((l) => l.seq), records.map((_, i) => String(i + 1)));
    let previous = GENESIS_HASH;
    for (const link of links) {
      previous = chainHash(previous, canonicalJson(JSON.parse(link.json)));
      assert.equal(link.hash, previous, `link ${link.seq}`);
    }
    await log.close();
  });

  it('stores AuditEvents in their patients\' compartments with their search keys, without index rows or history', async () => {
    const log = new AuditLog(db, { source: SOURCE });
    const r = record(7, 'compartment-1');
    await log.record(r);
    const [row] = await db.query<{ rid: string; compartments: string[] }>(`SELECT rid::text AS rid, compartments FROM resources WHERE type = 'AuditEvent' AND id = $1`, [r.id]);
    const key = (p: string, v: string) => `AuditEvent.${p}\u001f${v}`;
    assert.deepEqual([...row!.compartments].sort(), ['Patient/compartment-1', key('agent', 'Practitioner/pr-1'), key('agent', 'urn:firekeeper:client-id|app'),
      key('entity', 'Observation/o-7'), key('entity', 'Patient/compartment-1'), key('patient', 'Patient/compartment-1')].sort());
    for (const table of ['resource_versions', 'sp_token', 'sp_reference', 'sp_date', 'sp_string', 'sp_uri']) {
      const [{ n }] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE ${table === 'resource_versions' ? `type = 'AuditEvent'` : `rid = ${row!.rid}`}`);
      assert.equal(n, '0', table);
    }
    await log.close();
  });

  it('two writers (two instances) append to one chain without forking it', async () => {
    const a = new AuditLog(db, { source: SOURCE });
    const b = new AuditLog(db, { source: SOURCE });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).record(record(100 + i))));
    assert.deepEqual(await verifyAuditTrail(db), { ok: true, records: 91, head: (await chain()).at(-1)!.hash });
    await Promise.all([a.close(), b.close()]);
  });

  it('appends each batch in one statement, even right after another instance appended (the head is read under the chain\'s lock)', async () => {
    const counted = () => {
      const q: Database & { statements: number } = {
        engine: db.engine, statements: 0,
        query: (text, params) => (q.statements++, db.query(text, params)),
        transaction: (fn) => db.transaction(fn),
        close: () => db.close(),
      };
      return q;
    };
    const [qa, qb] = [counted(), counted()];
    const [a, b] = [new AuditLog(qa, { source: SOURCE }), new AuditLog(qb, { source: SOURCE })];
    const records = Array.from({ length: 10 }, (_, i) => record(200 + i));
    for (const [i, r] of records.entries()) await (i % 2 ? a : b).record(r); // one batch each, the writers taking turns
    assert.deepEqual([qa.statements, qb.statements], [5, 5]);
    assert.deepEqual((await chain()).slice(-10).map((l) => l.id), records.map((r) => r.id), 'in the order recorded');
    assert.equal((await verifyAuditTrail(db)).ok, true);
    await Promise.all([a.close(), b.close()]);
  });

  it('two instances under sustained load: every record committed, none failed, one chain', async () => {
    const logs = [new AuditLog(db, { source: SOURCE }), new AuditLog(db, { source: SOURCE })];
    const before = (await chain()).length;
    const records = Array.from({ length: 600 }, (_, i) => record(1000 + i));
    // Waves of concurrent records on both, so each keeps a batch in flight while the other appends.
    for (let wave = 0; wave < 6; wave++) {
      const results = await Promise.allSettled(records.slice(wave * 100, wave * 100 + 100).map((r, i) => logs[i % 2]!.record(r)));
      assert.deepEqual(results.filter((r) => r.status === 'rejected'), [], `wave ${wave}`);
    }
    const links = await chain();
    assert.equal(links.length, before + records.length);
    assert.deepEqual(new Set(links.slice(before).map((l) => l.id)), new Set(records.map((r) => r.id)));
    assert.ok(logs.every((l) => l.stats.batches < 300), `batched: ${logs.map((l) => JSON.stringify(l.stats)).join(' ')}`);
    assert.equal((await verifyAuditTrail(db)).ok, true);
    await Promise.all(logs.map((l) => l.close()));
  });

  it('hashes non-ASCII and escaped text the same in the database as the verifier does', async () => {
    const log = new AuditLog(db, { source: SOURCE });
    const r = { ...record(3000), outcome: { status: 403, description: 'Zugriff verweigert — Ärztin 👩‍⚕️ "quoted" \\ back\u2028slash\ttab\u0001' } };
    await log.record(r);
    const links = await chain();
    const at = links.findIndex((l) => l.id === r.id);
    assert.match(links[at]!.json, /Ärztin 👩‍⚕️/);
    assert.equal(links[at]!.hash, chainHash(links[at - 1]!.hash, canonicalJson(JSON.parse(links[at]!.json))));
    assert.equal((await verifyAuditTrail(db)).ok, true);
    await log.close();
  });

  it('reads the chain head through its primary key, even in a plan made when the chain was empty (migration 023)', async () => {
    // A function's plans live as long as its connection: planned on an empty, analysed chain (a new database, the
    // benchmark's cleared one), a sequential scan and a sort of the whole chain would stay the plan as the chain grows.
    const fresh = await testDatabase();
    await fresh.query('ANALYZE audit_chain');
    const scans = await fresh.transaction(async (tx) => {
      // This connection's scans of the chain not yet reported: counted before and after, on one connection.
      const counted = async () => (await tx.query<{ seq: number; idx: number }>(
        `SELECT seq_scan::int AS seq, idx_scan::int AS idx FROM pg_stat_xact_user_tables WHERE relid = 'audit_chain'::regclass`))[0]!;
      const before = await counted();
      for (const id of [randomUUID(), randomUUID()]) {
        await tx.query('SELECT audit_append($1, $2)', [`[{"id":"${id}","resourceType":"AuditEvent"}]`, JSON.stringify([[id, '2026-12-07T10:00:00Z', []]])]);
      }
      const after = await counted();
      return { seq: after.seq - before.seq, idx: after.idx - before.idx };
    });
    assert.deepEqual(scans, { seq: 0, idx: 2 });
    assert.equal((await verifyAuditTrail(fresh)).ok, true);
  });

  it('a failed batch rejects its callers and leaves the chain as it was', async () => {
    const log = new AuditLog(db, { source: SOURCE });
    const r = record(1);
    await log.record(r);
    const before = (await chain()).length;
    await assert.rejects(log.record({ ...record(2), id: r.id }), /duplicate key/); // the same id twice
    assert.equal((await chain()).length, before);
    assert.equal((await verifyAuditTrail(db)).ok, true);
    await log.close();
  });

  it('commits records with their client assertion jtis; one whose jti is not recorded is not written, and fails no other', async () => {
    const { client } = await registerClient(db, { name: 'Jti batch', type: 'backend-service', jwks: { keys: [(await newClientKey('ES384')).publicJwk] }, scopes: ['system/Patient.rs'] });
    const version = async () => (await db.query<{ v: string }>('SELECT xmin::text AS v FROM clients WHERE client_id = $1', [client.clientId]))[0]!.v;
    const jti = (id: string, v: string) => ({ clientId: client.clientId, jti: id, expiresAt: new Date(Date.now() + 60_000).toISOString(), version: v });
    const stored = async (records: AuditRecord[]) =>
      (await db.query<{ id: string }>(`SELECT id FROM resources WHERE type = 'AuditEvent' AND id = ANY($1::text[])`, [records.map((r) => r.id)])).map((r) => r.id).sort();
    const log = new AuditLog(db, { source: SOURCE });
    const v1 = await version();
    const fine = [record(301), record(302), record(303)];
    await Promise.all(fine.map((r, i) => log.record(r, jti(`fine-${i}`, v1))));
    assert.deepEqual(await stored(fine), fine.map((r) => r.id).sort());

    // One batch: a replayed jti, the same new jti twice, a jti of a changed client version, and records without jtis.
    const [replayed, first, second, plain] = [record(304), record(305), record(306), record(307)];
    const results = await Promise.allSettled([
      log.record(replayed, jti('fine-0', v1)), log.record(first, jti('twice', v1)), log.record(second, jti('twice', v1)), log.record(plain),
    ]);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? 'written' : (r.reason as JtiNotRecorded).outcome)), ['replay', 'written', 'replay', 'written']);
    await setClientStatus(db, client.clientId, 'suspended');
    const changed = record(308);
    await assert.rejects(log.record(changed, jti('after-suspension', v1)), (err: unknown) => err instanceof JtiNotRecorded && err.outcome === 'changed');
    assert.deepEqual(await stored([replayed, first, second, plain, changed]), [first.id, plain.id].sort());
    const jtis = await db.query<{ jti: string }>('SELECT jti FROM client_assertion_jtis WHERE client_id = $1 ORDER BY jti', [client.clientId]);
    assert.deepEqual(jtis.map((j) => j.jti), ['fine-0', 'fine-1', 'fine-2', 'twice']);
    assert.equal((await verifyAuditTrail(db)).ok, true);
    await log.close();
  });
});

describe('verifyAuditTrail', () => {
  it('passes on an intact trail and prints "audit trail intact: N records"', async () => {
    const result = await verifyAuditTrail(db);
    assert.equal(result.ok, true);
    const links = await chain();
    const { text, exitCode } = formatVerifyResult(result);
    assert.equal(text, `audit trail intact: ${links.length} records (head ${links.at(-1)!.hash})\n`);
    assert.equal(exitCode, 0);
  });

  it('names the first edited record (jsonb_set) with its link and "hash mismatch"', async () => {
    const links = await chain();
    const victim = links[10]!;
    await db.query(`UPDATE resources SET resource = jsonb_set(resource::jsonb, '{outcome}', '"4"')::json WHERE type = 'AuditEvent' AND id = $1`, [victim.id]);
    const result = await verifyAuditTrail(db);
    assert.deepEqual(result, { ok: false, records: 10, seq: victim.seq, id: victim.id, reason: 'hash mismatch: the record was altered, or the link before it removed' });
    assert.equal(formatVerifyResult(result).exitCode, 1);
    assert.match(formatVerifyResult(result).text, new RegExp(`broken at link ${victim.seq} \\(AuditEvent/${victim.id}\\)`));
    await db.query(`UPDATE resources SET resource = $2::json WHERE type = 'AuditEvent' AND id = $1`, [victim.id, victim.json]);
    assert.equal((await verifyAuditTrail(db)).ok, true, 'the original content verifies again (key order does not matter)');
  });

  it('names a deleted record as missing, and a removed link through the next one', async () => {
    const links = await chain();
    await db.query(`DELETE FROM resources WHERE type = 'AuditEvent' AND id = $1`, [links[20]!.id]);
    assert.deepEqual(await verifyAuditTrail(db), { ok: false, records: 20, seq: links[20]!.seq, id: links[20]!.id, reason: 'missing record: the AuditEvent of this link is gone' });
    await db.query(`DELETE FROM audit_chain WHERE seq = $1::bigint`, [links[20]!.seq]);
    const result = await verifyAuditTrail(db);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.seq, links[21]!.seq);
  });

  it('reports an AuditEvent that is in no link', async () => {
    const other = await testDatabase();
    const log = new AuditLog(other, { source: SOURCE });
    await log.record(record(1));
    await log.close();
    await other.query(`INSERT INTO resources (type, id, version, last_updated, resource) VALUES ('AuditEvent', 'forged', 1, now(), '{"resourceType":"AuditEvent","id":"forged"}')`);
    assert.deepEqual(await verifyAuditTrail(other), { ok: false, records: 1, seq: null, id: 'forged', reason: 'not in the chain: an AuditEvent written outside the audit log' });
  });
});

// Last: it appends to the trail whose length the tests above count.
describe('AuditLog storage', () => {
  it('stores each event as the exact text it hashed, compressed with lz4 where the server has it (migrations 020, 021)', async () => {
    const log = new AuditLog(db, { source: SOURCE });
    const r = record(8);
    await log.record(r);
    const [row] = await db.query<{ json: string; compression: string | null }>(
      `SELECT resource::text AS json, pg_column_compression(resource) AS compression FROM resources WHERE type = 'AuditEvent' AND id = $1`, [r.id]);
    const [link] = await db.query<{ hash: string; previous: string }>(
      `SELECT c.hash, coalesce((SELECT p.hash FROM audit_chain p WHERE p.seq = c.seq - 1), $2) AS previous FROM audit_chain c WHERE c.event_id = $1`, [r.id, GENESIS_HASH]);
    assert.equal(chainHash(link!.previous, row!.json), link!.hash, 'the stored text is the canonical JSON the chain hashed');
    const [{ lz4 }] = await db.query<{ lz4: boolean }>(`SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`);
    assert.equal(row!.compression, lz4 ? 'lz4' : null, `a ${row!.json.length}-byte event (lz4 available: ${lz4})`);
    await log.close();
  });
});
