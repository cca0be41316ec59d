/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and prints its top functions by self
 * time and by total time (self plus callees, each function counted once per stack), and
 * self time by package (node_modules/<name>, node: internals, the project's own files).
 * `tsx bench/cpuprofile-summary.ts <file.cpuprofile> [top=25] [from-seconds=0]`: samples
 * before `from-seconds` into the profile (start-up, module loading, warm-up) left out.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, fromArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: cpuprofile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const fromUs = Number(fromArg ?? 0) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const where = (n: ProfileNode) => {
  const { url, lineNumber, functionName } = n.callFrame;
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '~/')
    .replace(/^.*\/wt-[^/]+\//, '');
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
};
const packageOf = (n: ProfileNode) => {
  const { url, functionName } = n.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m?.[1] ?? 'project';
};

// Each sample's time is the next delta (V8's convention: delta i precedes sample i).
const selfUs = new Map<number, number>();
let at = 0;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  if (at < fromUs) continue;
  const id = profile.samples[i] as number;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const totalUs = profile.endTime - profile.startTime - Math.min(fromUs, at);
const self = new Map<string, number>();
const total = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (node === undefined) continue;
  self.set(where(node), (self.get(where(node)) ?? 0) + us);
  packages.set(packageOf(node), (packages.get(packageOf(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
    const n = byId.get(up);
    if (n === undefined) break;
    const key = where(n);
    if (seen.has(key)) continue;
    seen.add(key);
    total.set(key, (total.get(key) ?? 0) + us);
  }
}
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
const busy = totalUs - idle;
const ms = (us: number) =>
  `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%`;
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    console.log(`${ms(v)}  ${k}`);
  }
};
console.log(
  `profile ${(totalUs / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(2)} s (percentages of busy)`,
);
print('self time by package', packages);
print('self time', self);
print('total time', total);
