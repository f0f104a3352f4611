// The report as one self-contained HTML page: tables and inline SVG bar charts, no script, no external resource
// (its Content-Security-Policy allows nothing else), so it can be mailed or archived as it is.
import { AGE_BANDS, BP_TARGET, type PopulationReport } from './measures.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (v: string | number) => String(v).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
const pct = (n: number, of: number) => (of === 0 ? 0 : (100 * n) / of);
const pctText = (n: number, of: number) => (of === 0 ? '–' : `${pct(n, of).toFixed(1)}%`);

interface Segment { value: number; color: string; label: string }

/** Horizontal bars, one per row, each split into segments that add up to the row's total (100% wide). */
function barChart(title: string, rows: { label: string; segments: Segment[] }[]): string {
  const labelW = 190, barW = 420, rowH = 26;
  const height = rows.length * rowH + 34;
  const bars = rows.map((row, i) => {
    const total = row.segments.reduce((n, s) => n + s.value, 0);
    let x = labelW;
    const parts = row.segments.map((s) => {
      const w = total === 0 ? 0 : (barW * s.value) / total;
      const rect = `<rect x="${x.toFixed(1)}" y="${i * rowH + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${s.color}"><title>${esc(`${row.label}: ${s.label} ${s.value} (${pctText(s.value, total)})`)}</title></rect>`;
      x += w;
      return rect;
    }).join('');
    return `<text x="${labelW - 8}" y="${i * rowH + rowH / 2 + 4}" text-anchor="end">${esc(row.label)}</text>${parts}`;
  }).join('');
  const legend = rows[0]?.segments.map((s, i) => `<rect x="${labelW + i * 150}" y="${rows.length * rowH + 14}" width="12" height="12" fill="${s.color}"/><text x="${labelW + i * 150 + 18}" y="${rows.length * rowH + 24}">${esc(s.label)}</text>`).join('') ?? '';
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${labelW + barW + 20}" height="${height}" font-size="13" font-family="system-ui, sans-serif">${bars}${legend}</svg></figure>`;
}

function htmlTable(head: string[], rows: (string | number)[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

export function reportHtml(r: PopulationReport): string {
  const total = AGE_BANDS.reduce((n, b) => n + r.patients[b], 0);
  const target = `${BP_TARGET.systolic}/${BP_TARGET.diastolic} mm Hg`;
  const htn = barChart(`Hypertension (18–85): latest blood pressure against ${target}, by age band`, r.hypertension.map((h) => ({
    label: h.band,
    segments: [
      { value: h.aboveTarget, color: '#c0392b', label: 'above target' },
      { value: h.withReading - h.aboveTarget, color: '#27ae60', label: 'below target' },
      { value: h.hypertensive - h.withReading, color: '#bdc3c7', label: 'no reading' },
    ],
  })));
  const vax = barChart('Immunization coverage (at least one dose)', r.vaccines.map((v) => ({
    label: v.name,
    segments: [{ value: v.vaccinated, color: '#2874a6', label: 'vaccinated' }, { value: v.eligible - v.vaccinated, color: '#d6eaf8', label: 'not vaccinated' }],
  })));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Population report, ${esc(r.asOf.slice(0, 10))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1c2833; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #d5d8dc; padding: 0.3rem 0.8rem; text-align: right; }
th:first-child, th[scope=row] { text-align: left; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.note { color: #566573; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Population report</h1>
<p>As of ${esc(r.asOf.slice(0, 10))}: ${esc(total)} living patients (${AGE_BANDS.map((b) => `${esc(b)}: ${esc(r.patients[b])}`).join(', ')}).</p>
<h2>Blood pressure in hypertension</h2>
${htn}
${htmlTable(['Age band', 'Hypertensive', 'With a reading', 'Above target', '% of those read'], r.hypertension.map((h) => [h.band, h.hypertensive, h.withReading, h.aboveTarget, pctText(h.aboveTarget, h.withReading)]))}
<h2>Immunization coverage</h2>
${vax}
${htmlTable(['Vaccine', 'Eligible', 'Vaccinated', 'Coverage'], r.vaccines.map((v) => [v.name, v.eligible, v.vaccinated, pctText(v.vaccinated, v.eligible)]))}
<p class="note">A sample report from Firekeeper's population-analytics app. The rules (after NCQA HEDIS CBP and the CDC
immunization schedules) are in <code>apps/population-analytics/src/measures.ts</code>; they are not clinically validated.</p>
</body>
</html>
`;
}
