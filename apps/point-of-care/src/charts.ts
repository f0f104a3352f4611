// Vital signs over time as inline SVG line charts (no script, so the page works under a CSP without one).
import { esc } from './html.ts';

export interface Point { at: number; value: number }
export interface Series { name: string; color: string; points: Point[] }

const W = 560, H = 180, PAD = { left: 44, right: 12, top: 12, bottom: 26 };
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export function lineChart(title: string, unit: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p>${esc(title)}: no readings.</p>`;
  const t0 = Math.min(...all.map((p) => p.at)), t1 = Math.max(...all.map((p) => p.at));
  const lo = Math.min(...all.map((p) => p.value)), hi = Math.max(...all.map((p) => p.value));
  const pad = (hi - lo) * 0.1 || 1;
  const [y0, y1] = [lo - pad, hi + pad];
  const x = (t: number) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - (v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const lines = series.map((s) => {
    const pts = [...s.points].sort((a, b) => a.at - b.at);
    const path = pts.map((p) => `${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    const dots = pts.map((p) => `<circle cx="${x(p.at).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.name} ${p.value} ${unit} on ${day(p.at)}`)}</title></circle>`).join('');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${path}"/>${dots}`;
  }).join('');
  const axes = `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#999"/>`
    + `<text x="${PAD.left - 4}" y="${y(hi) + 4}" text-anchor="end">${esc(Math.round(hi))}</text>`
    + (Math.round(lo) === Math.round(hi) ? '' : `<text x="${PAD.left - 4}" y="${y(lo) + 4}" text-anchor="end">${esc(Math.round(lo))}</text>`)
    + `<text x="${PAD.left}" y="${H - 8}">${esc(day(t0))}</text><text x="${W - PAD.right}" y="${H - 8}" text-anchor="end">${esc(day(t1))}</text>`;
  const legend = series.map((s) => `<span class="key" style="border-color:${s.color}">${esc(s.name)}</span>`).join(' ');
  return `<figure><figcaption>${esc(title)} (${esc(unit)}) ${legend}</figcaption><svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="100%" font-size="11">${axes}${lines}</svg></figure>`;
}
