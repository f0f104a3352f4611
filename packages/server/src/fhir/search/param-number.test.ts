// Number and quantity parameters: prefixes and implicit precision (R4 search §3.1.1.4.1, §3.1.1.4.6).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Database } from '../../store/database.ts';
import { parseNumberValue } from './param-number.ts';
import { found, ids, load, observation, patient, rejects, search, setup, type Resource } from './test-helpers.ts';

const t = await setup();
const db: Database = t.db;
const UCUM = 'http://unitsofmeasure.org';
const risk = (id: string, probability?: number): Resource => ({
  resourceType: 'RiskAssessment',
  id,
  status: 'final',
  subject: { reference: 'Patient/p' },
  ...(probability === undefined ? {} : { prediction: [{ probabilityDecimal: probability }] }),
});

before(async () => {
  await load(t.svc, patient('p'));
  await load(t.svc, risk('n1', 10), risk('n2', 9.95), risk('n3', 10.04), risk('n4', 10.05), risk('n5', 0.05), risk('n6', 9.94), risk('n7', 5), risk('n8'));
  await load(
    t.svc,
    observation('q1', undefined, { valueQuantity: { value: 5.4, unit: 'mg', system: UCUM, code: 'mg' } }),
    observation('q2', undefined, { valueQuantity: { value: 5.4, unit: 'mg' } }),
    observation('q3', undefined, { valueQuantity: { value: 5.4, unit: 'g', system: UCUM, code: 'g' } }),
    observation('q4', undefined, { valueQuantity: { value: 10, unit: 'milligram', system: UCUM, code: 'mg' } }),
    observation('q5', undefined, { valueString: 'none' }),
  );
});

describe('number (R4 search §3.1.1.4.1)', () => {
  const n = (q: string) => found(db, 'RiskAssessment', q);
  test('eq uses the implicit precision of the value', async () => {
    // (RiskAssessment ras-2 keeps probabilities <= 100: the values are a tenth of the R4 examples.)
    assert.deepEqual(await n('probability=10.0'), ['n1', 'n2', 'n3']); // [9.95, 10.05)
    assert.deepEqual(await n('probability=10.00'), ['n1']); // [9.995, 10.005)
    assert.deepEqual(await n('probability=1e1'), ['n1', 'n2', 'n3', 'n4', 'n6', 'n7']); // [5, 15)
    assert.deepEqual(await n('probability=0.05'), ['n5']);
  });
  test('precision arithmetic', () => {
    assert.deepEqual(parseNumberValue('100', 'x'), { prefix: 'eq', value: '100', half: '5e-1' });
    assert.deepEqual(parseNumberValue('ge100.00', 'x'), { prefix: 'ge', value: '100.00', half: '5e-3' });
    assert.deepEqual(parseNumberValue('1e2', 'x'), { prefix: 'eq', value: '1e2', half: '5e1' });
  });
  test('ne, gt, lt, ge, le, sa, eb compare with the exact value (precision ignored)', async () => {
    assert.deepEqual(await n('probability=ne10.0'), ['n4', 'n5', 'n6', 'n7']);
    assert.deepEqual(await n('probability=gt10'), ['n3', 'n4']);
    assert.deepEqual(await n('probability=ge10'), ['n1', 'n3', 'n4']);
    assert.deepEqual(await n('probability=lt10'), ['n2', 'n5', 'n6', 'n7']);
    assert.deepEqual(await n('probability=le9.95'), ['n2', 'n5', 'n6', 'n7']);
    assert.deepEqual(await n('probability=sa10'), ['n3', 'n4']);
    assert.deepEqual(await n('probability=eb0.06'), ['n5']);
  });
  test('ap: within 10% of the value', async () => {
    assert.deepEqual(await n('probability=ap10'), ['n1', 'n2', 'n3', 'n4', 'n6']); // [9, 11]
    assert.deepEqual(await n('probability=ap5'), ['n7']); // [4.5, 5.5]
  });
  test('OR, AND and :missing', async () => {
    assert.deepEqual(await n('probability=0.05,5'), ['n5', 'n7']);
    assert.deepEqual(await n('probability=gt5&probability=lt10'), ['n2', 'n6']);
    assert.deepEqual(await n('probability:missing=true'), ['n8']);
  });
  test('_sort by a number, missing values last', async () => {
    assert.deepEqual(ids(await search(db, 'RiskAssessment', '_sort=-probability')), ['n4', 'n3', 'n1', 'n2', 'n6', 'n7', 'n5', 'n8']);
  });
  test('bad numbers are a 400', async () => {
    await rejects(search(db, 'RiskAssessment', 'probability=abc'), 400, /Invalid number 'abc' for probability/);
    await rejects(search(db, 'RiskAssessment', 'probability=gt'), 400, /Invalid number 'gt' for probability/);
    await rejects(search(db, 'RiskAssessment', 'probability=1,2x'), 400, /Invalid number '2x'/);
  });
});

describe('quantity (R4 search §3.1.1.4.6)', () => {
  const q = (s: string) => found(db, 'Observation', s);
  test('value only, value|system|code, value||code (code or unit)', async () => {
    assert.deepEqual(await q('value-quantity=5.4'), ['q1', 'q2', 'q3']);
    assert.deepEqual(await q(`value-quantity=5.4|${UCUM}|mg`), ['q1']);
    assert.deepEqual(await q('value-quantity=5.4||mg'), ['q1', 'q2']);
    assert.deepEqual(await q('value-quantity=5.4||g'), ['q3']);
  });
  test('prefixes, OR and AND', async () => {
    assert.deepEqual(await q('value-quantity=gt5.4||mg'), ['q4']);
    assert.deepEqual(await q(`value-quantity=le10|${UCUM}|mg`), ['q1', 'q4']);
    assert.deepEqual(await q(`value-quantity=5.4|${UCUM}|mg,10||mg`), ['q1', 'q4']);
    assert.deepEqual(await q('value-quantity=ge5&value-quantity=lt6||mg'), ['q1', 'q2']);
    assert.deepEqual(await q('value-quantity:missing=true'), ['q5']);
  });
  test('_sort by a quantity value', async () => {
    assert.deepEqual(ids(await search(db, 'Observation', '_sort=value-quantity,_id')), ['q1', 'q2', 'q3', 'q4', 'q5']);
    assert.deepEqual(ids(await search(db, 'Observation', '_sort=-value-quantity,_id')), ['q4', 'q1', 'q2', 'q3', 'q5']);
  });
  test('bad quantities are a 400', async () => {
    await rejects(search(db, 'Observation', 'value-quantity=5.4|mg'), 400, /Invalid quantity '5.4\|mg' for value-quantity/);
    await rejects(search(db, 'Observation', 'value-quantity=five||mg'), 400, /Invalid number 'five'/);
  });
});
