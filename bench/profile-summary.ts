// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): where the server's CPU time went,
// by package (self time) and by function (self and inclusive time).
//   node --import tsx bench/profile-summary.ts bench/results/profiles/R-…/CPU.….cpuprofile [--top=25] [--skip=5]
// --skip leaves out the first seconds of the profile (the server's start-up).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, skip: { type: 'string', default: '0' } } });
const top = Number(values.top);
const skipMicros = Number(values.skip) * 1e6;

function where(url: string): string {
  if (!url) return '(native/vm)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node-core';
  const src = /\/(packages\/[^/]+\/src\/.*)$/.exec(url);
  return src ? src[1]! : url.replace(/^file:\/\//, '');
}

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  return `${functionName || '(anonymous)'} ${url ? `${where(url)}:${lineNumber + 1}` : ''}`.trim();
}

function report(title: string, totals: Map<string, number>, all: number): void {
  console.log(`\n${title}`);
  for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / all).toFixed(1).padStart(6)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
}

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let all = 0;
  let idle = 0;
  let clock = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    clock += dt;
    if (clock < skipMicros) return;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    all += dt;
    const l = label(node);
    self.set(l, (self.get(l) ?? 0) + dt);
    const pk = node.callFrame.url ? where(node.callFrame.url).replace(/^packages\/([^/]+)\/src\/(.*)$/, 'firekeeper: $2') : node.callFrame.functionName;
    pkg.set(pk, (pkg.get(pk) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = label(byId.get(cur)!);
      if (!seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
      }
    }
  });
  console.log(`${file}: ${(all / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle`);
  report('self time by package / file', pkg, all);
  report('self time by function', self, all);
  report('inclusive time by function', inclusive, all);
}
