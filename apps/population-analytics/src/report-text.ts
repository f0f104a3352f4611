// The report as plain-text tables for a terminal.
import { AGE_BANDS, BP_TARGET, type PopulationReport } from './measures.ts';

const percent = (n: number, of: number) => (of === 0 ? '–' : `${((100 * n) / of).toFixed(1)}%`);

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function reportText(r: PopulationReport): string {
  const total = AGE_BANDS.reduce((n, b) => n + r.patients[b], 0);
  return [
    `Population report as of ${r.asOf.slice(0, 10)}: ${total} living patients`,
    '',
    `Hypertension (18–85) whose latest blood pressure is at or above ${BP_TARGET.systolic}/${BP_TARGET.diastolic} mm Hg`,
    table(['age band', 'hypertensive', 'with a reading', 'above target', '% of those read'],
      r.hypertension.map((h) => [h.band, h.hypertensive, h.withReading, h.aboveTarget, percent(h.aboveTarget, h.withReading)])),
    '',
    'Immunization coverage (at least one dose)',
    table(['vaccine', 'eligible', 'vaccinated', 'coverage'], r.vaccines.map((v) => [v.name, v.eligible, v.vaccinated, percent(v.vaccinated, v.eligible)])),
    '',
    'A sample report: the rules are in apps/population-analytics/src/measures.ts; they are not clinically validated.',
  ].join('\n');
}
