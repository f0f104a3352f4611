// Which AuditEvent conditions the keys answer alone (an indexed lookup), and which read the computed rows of every
// candidate. fhir-audit.test.ts checks what every form of search finds; this checks how it is found.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SYSTEM_PRINCIPAL } from '../../access/principal.ts';
import { parseCondition } from './parse-params.ts';
import { Aliases, raw } from './sql.ts';
import { conditionSql } from './where.ts';
import { orderKeys, parseSort } from './sort.ts';

const FHIR_BASE = 'https://fk.example/fhir';

function compile(name: string, value: string, types = ['AuditEvent']): { text: string; params: unknown[] } {
  const condition = parseCondition(types, name, value, { now: new Date(), fhirBase: FHIR_BASE });
  return conditionSql(condition, raw('r'), { aliases: new Aliases(), principal: SYSTEM_PRINCIPAL, fhirBase: FHIR_BASE }).render();
}

const key = (p: string, v: string) => `AuditEvent.${p}\u001f${v}`;

describe('AuditEvent search keys', () => {
  it('answer local references, URLs and identifiers with a system by the row\'s keys alone', () => {
    const cases: [string, string, string[]][] = [
      ['patient', 'Patient/p-1', [key('patient', 'Patient/p-1')]],
      ['agent', 'Practitioner/dr,Patient/p-1', [key('agent', 'Practitioner/dr'), key('agent', 'Patient/p-1')]],
      ['entity', `${FHIR_BASE}/Observation/o-1`, [key('entity', `${FHIR_BASE}/Observation/o-1`), key('entity', 'Observation/o-1')]],
      ['entity', 'https://elsewhere.example/fhir/Observation/o-1', [key('entity', 'https://elsewhere.example/fhir/Observation/o-1')]],
      ['agent:identifier', 'urn:firekeeper:client-id|app', [key('agent', 'urn:firekeeper:client-id|app')]],
      ['agent:identifier', '|jti-1', [key('agent', '|jti-1')]],
    ];
    for (const [name, value, keys] of cases) {
      const { text, params } = compile(name, value);
      assert.doesNotMatch(text, /audit_event_|sp_reference|sp_token/, `${name}=${value}`);
      assert.match(text, /r\.compartments (@>|&&)/);
      assert.deepEqual(params.flat(), keys, `${name}=${value}`);
    }
    // A bare id: a key for each of the parameter's target types (any resource type for `entity`).
    const bare = compile('entity', 'o-1');
    assert.doesNotMatch(bare.text, /audit_event_/);
    assert.ok((bare.params[0] as string[]).includes(key('entity', 'Observation/o-1')) && (bare.params[0] as string[]).length > 100);
  });

  it('read the computed rows where a value has no key: an identifier of any system, :missing', () => {
    for (const [name, value] of [['agent:identifier', 'app'], ['agent:missing', 'true']] as const) {
      const { text } = compile(name, value);
      assert.match(text, /audit_event_(references|tokens)\(r\.rid/, `${name}=${value}`);
      assert.doesNotMatch(text, /compartments/, `${name}=${value}`);
    }
  });

  it('are not used for a parameter of several types, some of which store their rows', () => {
    const { text } = compile('patient', 'Patient/p-1', ['AuditEvent', 'Observation']);
    assert.match(text, /sp_reference UNION ALL SELECT \* FROM \(SELECT f\.\* FROM \(SELECT r\.resource::jsonb AS doc WHERE r\.type = 'AuditEvent'/);
    assert.doesNotMatch(text, /compartments/);
  });

  it('search date on last_updated, which is the event\'s recorded time (an index range), and :missing on the computed date', () => {
    const { text, params } = compile('date', 'ge2026-12-01');
    assert.doesNotMatch(text, /audit_event_dates/);
    assert.deepEqual({ text, params }, { text: 'r.last_updated >= $1::timestamptz', params: ['2026-12-01T00:00:00.000Z'] });
    assert.match(compile('date:missing', 'true').text, /audit_event_dates\(r\.rid/);
  });

  it('sort by date as by last_updated, which is the event\'s recorded time: in its index\'s order, nothing computed', () => {
    for (const sort of ['date', '-date']) {
      const { keys, joins } = orderKeys(parseSort(sort, ['AuditEvent']), raw('r'), new Aliases());
      assert.deepEqual([joins.length, keys[0]!.expr.render().text, keys[0]!.desc], [0, 'r.last_updated', sort === '-date']);
    }
    assert.equal(orderKeys(parseSort('date', ['AuditEvent', 'Observation']), raw('r'), new Aliases()).joins.length, 1, 'several types');
  });
});
