import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTargets, formatDrift, formatPgWork, formatResults, helloDrift, helloRatio, median, type Row } from './report.ts';
import { perRequest } from './pg-work.ts';
import type { Measurement } from './load.ts';

function row(scenario: string, rps: number, ok = true): Row {
  const measurement: Measurement = {
    requests: rps * 10, seconds: 10, rps, latencyMs: { p50: 1, p90: 1, p99: 1, mean: 1, max: 1 },
    statusCodes: { 200: rps * 10 }, non2xx: ok ? 0 : 1, errors: 0, timeouts: 0, ok,
  };
  return { scenario, description: scenario, measurement };
}

const target = (rows: Row[], name: string) => evaluateTargets(rows).find((t) => t.name === name);

test('a scenario divides by the mean of the hello-world measured just before and just after it', () => {
  const rows = [row('hello-world', 30_000), row('R', 1_300), row('hello-world (after R)', 10_000), row('S', 660), row('hello-world (after S)', 12_000)];
  assert.equal(helloRatio(rows, rows[1]!), 1_300 / 20_000);
  assert.equal(helloRatio(rows, rows[3]!), 660 / 11_000);
  // R against the first hello-world alone would read 0.043×: the machine sped down meanwhile.
  assert.deepEqual(target(rows, 'R vs hello-world'), { name: 'R vs hello-world', goal: '≥ 0.12×', measured: '0.065× (unreliable: -67%)', status: 'FAIL' });
  assert.deepEqual(target(rows, 'S vs hello-world'), { name: 'S vs hello-world', goal: '≥ 0.06×', measured: '0.060× (unreliable: +20%)', status: 'PASS' });
});

test('a steady machine gives a plain ratio; drift within 10% is not flagged', () => {
  const rows = [row('hello-world', 20_000), row('K', 1_900), row('hello-world (after K)', 21_000)];
  assert.ok(Math.abs(helloDrift(rows, rows[1]!)! - 0.05) < 1e-9);
  assert.equal(target(rows, 'K vs hello-world')?.measured, `${(1_900 / 20_500).toFixed(3)}×`);
  assert.equal(formatDrift(rows), '');
});

test('an invalid hello-world is skipped for the next valid one; with none on one side the other is used alone', () => {
  const rows = [row('hello-world', 20_000), row('R', 2_000), row('hello-world (after R)', 5_000, false), row('S', 1_000), row('hello-world (after S)', 20_000)];
  assert.equal(helloRatio(rows, rows[1]!), 0.1);
  assert.equal(helloDrift(rows, rows[1]!), 0);
  const tail = [row('hello-world', 25_000), row('K', 2_500)];
  assert.equal(helloRatio(tail, tail[1]!), 0.1);
  assert.equal(helloDrift(tail, tail[1]!), undefined);
});

test('without any valid hello-world the target is n/a; a failed scenario is FAIL', () => {
  const none = [row('hello-world', 20_000, false), row('R', 2_000)];
  assert.equal(target(none, 'R vs hello-world')?.status, 'n/a');
  const failed = [row('hello-world', 20_000), { ...row('R', 2_000), failure: '3 non-2xx responses' }, row('hello-world (after R)', 20_000)];
  assert.deepEqual(target(failed, 'R vs hello-world'), { name: 'R vs hello-world', goal: '≥ 0.12×', measured: '3 non-2xx responses', status: 'FAIL' });
});

test('the warning and the table name the scenarios whose hello-world drifted', () => {
  const rows = [row('hello-world', 14_000), row('R', 1_800), row('hello-world (after R)', 18_000), row('S', 800), row('hello-world (after S)', 18_500)];
  const warning = formatDrift(rows);
  assert.match(warning, /across R \(\+29%\):/);
  assert.doesNotMatch(warning, /\bS\b \(/);
  const lines = formatResults(rows).split('\n');
  assert.match(lines.find((l) => l.startsWith('| R '))!, /\| +0\.113 \| +\+29% \|/);
  assert.match(lines.find((l) => l.startsWith('| hello-world (after R)'))!, /\| +1\.286 \| +– \|/);
});

test("PostgreSQL's work is counted per request and shown only for the scenarios that have it", () => {
  const before = { commits: 100, blocksHit: 5_000, blocksRead: 40, rowsFetched: 900, walBytes: 1_000_000 };
  const after = { commits: 1_300, blocksHit: 305_000, blocksRead: 3_040, rowsFetched: 90_900, walBytes: 5_000_000 };
  const work = perRequest(before, after, 1_000);
  assert.deepEqual(work, { commits: 1.2, blocksHit: 300, blocksRead: 3, rowsFetched: 90, walBytes: 4_000 });
  assert.equal(perRequest(before, undefined, 1_000), undefined, 'no figures without both snapshots');
  assert.equal(perRequest(before, after, 0), undefined, 'nor without requests');
  const s = row('S', 1_000);
  s.measurement!.pgWork = work;
  const lines = formatPgWork([row('hello-world', 20_000), s]).split('\n');
  assert.equal(lines.length, 4, 'a caption, a header, a rule and one row: hello-world has no database');
  assert.match(lines[3]!, /^\| S +\| +1\.20 \| +300\.0 \| +3\.00 \| +90\.0 \| 4000 +\|$/);
  assert.equal(formatPgWork([row('hello-world', 20_000)]), '');
});

test('S is reported against its bare statement, without and with the audit, once both are measured', () => {
  const rows = [row('hello-world', 20_000), row('minimal-search', 4_000), row('minimal-search+audit', 2_000, false), row('S', 1_000)];
  assert.deepEqual(target(rows, 'S vs minimal-search'), { name: 'S vs minimal-search', goal: 'none (reported)', measured: '0.250×', status: 'n/a' });
  assert.equal(target(rows, 'S vs minimal-search+audit')?.measured, 'no valid measurement');
  assert.equal(target(rows.slice(0, 3), 'S vs minimal-search'), undefined);
});

test('R is reported against its bare read with the same audit, beside the issue-2 target against the read alone', () => {
  const rows = [row('hello-world', 20_000), row('minimal-read', 10_000), row('minimal-read+audit', 4_000), row('R', 3_000)];
  assert.deepEqual(target(rows, 'R vs minimal-read+audit'), { name: 'R vs minimal-read+audit', goal: 'none (reported)', measured: '0.750×', status: 'n/a' });
  assert.equal(target(rows, 'R vs minimal-read')?.measured, '0.300×', 'the audited ceiling does not replace the target');
  assert.equal(target(rows.filter((r) => r.scenario !== 'minimal-read+audit'), 'R vs minimal-read+audit'), undefined, 'not reported without its ceiling');
  assert.equal(target(rows, 'S vs minimal-search+audit'), undefined, 'nor S without S');
});

const inRound = (r: Row, n: number, of: number): Row => ({ ...r, round: { n, of } });

test('a scenario measured in rounds is judged by the median of the rounds whose hello-world held steady', () => {
  const rows = [
    row('hello-world', 20_000),
    inRound(row('S', 1_100), 1, 3), row('hello-world (after S (round 1 of 3))', 20_000), // 0.055
    inRound(row('S', 1_300), 2, 3), row('hello-world (after S (round 2 of 3))', 30_000), // 0.052, drifted +50%
    inRound(row('S', 1_830), 3, 3), row('hello-world (after S (round 3 of 3))', 30_000), // 0.061
  ];
  assert.deepEqual(target(rows, 'S vs hello-world'), {
    name: 'S vs hello-world', goal: '≥ 0.06×', status: 'FAIL',
    measured: '0.058× (median of 2 steady rounds; rounds: 0.055, 0.052 (+50%), 0.061)',
  });
  const lines = formatResults(rows).split('\n');
  assert.ok(lines.some((l) => l.startsWith('| S (round 2 of 3) ')), 'each round has its own line');
  assert.match(formatDrift(rows), /across S \(round 2 of 3\) \(\+50%\):/);
});

test('when every round drifted, the median of them all is given and marked unreliable', () => {
  const rows = [
    row('hello-world', 10_000), inRound(row('R', 1_500), 1, 2), row('hello-world', 20_000), inRound(row('R', 3_000), 2, 2), row('hello-world', 30_000),
  ];
  const t = target(rows, 'R vs hello-world')!;
  assert.equal(t.status, 'FAIL', 'below 0.12×, though one round was above it');
  assert.equal(t.measured, '0.110× (unreliable: hello-world drifted in every round; rounds: 0.100 (+100%), 0.120 (+50%))');
});

test('the ceilings are compared with the median throughput of the rounds', () => {
  const rows = [row('hello-world', 20_000), row('minimal-read', 10_000), row('minimal-search', 4_000),
    inRound(row('R', 5_000), 1, 3), inRound(row('R', 9_000), 2, 3), inRound(row('R', 7_000, false), 3, 3), inRound(row('S', 1_000), 1, 1)];
  assert.equal(target(rows, 'R vs minimal-read')?.measured, '0.700×', 'the median of the two valid rounds, 5,000 and 9,000');
  assert.equal(target(rows, 'S vs minimal-search')?.measured, '0.250×');
  const noCeiling = [row('hello-world', 20_000), row('minimal-read', 10_000, false), inRound(row('R', 5_000), 1, 2), inRound(row('R', 6_000), 2, 2)];
  assert.equal(target(noCeiling, 'R vs minimal-read')?.status, 'n/a', 'without a valid minimal-read there is nothing to compare with');
});

test('when every round failed, the target fails and says why', () => {
  const failed = (n: number): Row => ({ ...inRound(row('S', 900), n, 2), failure: `${n} non-2xx responses` });
  const rows = [row('hello-world', 20_000), row('minimal-read', 10_000), failed(1), row('hello-world', 20_000), failed(2), row('hello-world', 20_000)];
  assert.deepEqual(target(rows, 'S vs hello-world'), { name: 'S vs hello-world', goal: '≥ 0.06×', measured: '1 non-2xx responses', status: 'FAIL' });
  const r = [row('minimal-read', 10_000), { ...row('R', 9_000), failure: 'preflight: not a Patient' }];
  assert.deepEqual(target(r, 'R vs minimal-read'), { name: 'R vs minimal-read', goal: '≥ 0.60×', measured: 'preflight: not a Patient', status: 'FAIL' });
});

test('median', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});
