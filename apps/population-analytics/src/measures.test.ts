// The report's rules on hand-made patients whose right answers are known: who counts as hypertensive, which reading
// is the latest, what is above target, who is eligible for a vaccine and which doses count.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ageOn, populationReport } from './measures.ts';
import { AS_OF, handMadePopulation } from './hand-made-population.ts';

describe('population report rules', () => {
  const report = populationReport(handMadePopulation(), AS_OF);

  it('counts living patients by age band on the report date', () => {
    assert.deepEqual(report.patients, { '0–17': 1, '18–39': 2, '40–64': 2, '65+': 3 });
    assert.equal(Math.floor(ageOn('1960-03-01', AS_OF)), 65);
    assert.equal(Math.floor(ageOn('1960-01-02', AS_OF)), 65);
    assert.equal(Math.floor(ageOn('1960-01-01', AS_OF)), 66);
  });

  it('hypertension: active cases aged 18–85, their latest valid reading up to the report date, ≥ 140 or ≥ 90 is above target', () => {
    assert.deepEqual(report.hypertension, [
      { band: '18–39', hypertensive: 1, withReading: 0, aboveTarget: 0 },
      { band: '40–64', hypertensive: 1, withReading: 1, aboveTarget: 0 },
      { band: '65+', hypertensive: 2, withReading: 2, aboveTarget: 1 },
    ]);
  });

  it('immunizations: completed doses with the vaccine\'s CVX codes, influenza only within 12 months, among the eligible ages', () => {
    const byName = Object.fromEntries(report.vaccines.map((v) => [v.name, [v.eligible, v.vaccinated]]));
    assert.deepEqual(byName, {
      'Influenza (last 12 months)': [8, 1],
      'COVID-19 (any dose)': [7, 1],
      'MMR, children 2–17': [1, 1],
      'Zoster, 50 and over': [4, 0],
      'Pneumococcal, 65 and over': [3, 1],
    });
    assert.deepEqual(report.vaccines[0]!.byBand['65+'], { eligible: 3, vaccinated: 1 });
  });
});
