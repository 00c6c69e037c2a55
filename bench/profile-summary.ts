/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per package.
 *
 *   npx tsx bench/profile-summary.ts path/to/file.cpuprofile [top]
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function comes from: `src/…` of this package, an npm package, Node internals, or V8. */
function origin(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  // The benchmark's own tsc build of src/ and bench/ (processes.ts, CHILD_BUILD_DIR) is this package.
  const built = /node_modules\/\.cache\/legacy-tls-fallback-bench\/(src|bench)\/(.*)$/.exec(url);
  if (built) return `${built[1]}/${built[2]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? 'node_modules';
  const own = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** Time inside each function of this package's src/, callees included (what the package costs). */
  srcInclusive: { name: string; ms: number; share: number }[];
  byFunction: { name: string; selfMs: number; share: number }[];
  byOrigin: { origin: string; selfMs: number; share: number }[];
}

export async function summarizeProfile(file: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const inclusive = new Map<string, number>();
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const where = origin(url, functionName);
    const key = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    // Charge the sample to every distinct src/ function on its stack (recursion counted once).
    const onStack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)?.callFrame;
      if (!frame) break;
      const from = origin(frame.url, frame.functionName);
      if (!from.startsWith('src/')) continue;
      const name = `${frame.functionName || '(anonymous)'} ${from}`;
      if (onStack.has(name)) continue;
      onStack.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    srcInclusive: rank(inclusive).map(({ name, selfMs, share }) => ({ name, ms: selfMs, share })),
    byFunction: rank(byFunction),
    byOrigin: rank(byOrigin).map(({ name, selfMs, share }) => ({ origin: name, selfMs, share })),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [`busy ${(summary.totalMs - summary.idleMs).toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled`, 'self time by origin (share of busy time):'];
  for (const o of summary.byOrigin) lines.push(`  ${pct(o.share)}  ${o.origin}`);
  lines.push('time inside src/ functions, callees included:');
  for (const f of summary.srcInclusive) lines.push(`  ${pct(f.share)}  ${f.name}`);
  lines.push('self time by function:');
  for (const f of summary.byFunction) lines.push(`  ${pct(f.share)}  ${f.name}`);
  return lines.join('\n');
}

const file = process.argv[2];
if (file !== undefined && process.argv[1]?.endsWith('profile-summary.ts')) {
  summarizeProfile(file, Number(process.argv[3] ?? 25)).then(
    (summary) => console.log(formatSummary(summary)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
