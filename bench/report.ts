/** Rows, medians and the Markdown table. */

export interface Row {
  /** Stable key (last-run.json, baselines). */
  id: string;
  /** Scenario group id. */
  group: string;
  scenario: string;
  /** Requests per second (handshakes per second in the handshake group, records per second for memory). */
  rps?: number;
  /** Latency percentiles, milliseconds. */
  p50?: number;
  p99?: number;
  /** rps ÷ the baseline's rps, both medians of this run. */
  ratio?: number;
  /** Id of the row this one is compared with; a row that is its own baseline shows 1.00. */
  baseline?: string;
  /** Server CPU (user + system, µs) per request or handshake: robust to a busy machine or a saturated client. */
  cpuUs?: number;
  /** Baseline's cpuUs ÷ this row's: capacity ratio per server core (higher is better, like `ratio`). */
  cpuRatio?: number;
  /** Minimum ratio the issue asks for. */
  target?: number;
  /** Scenario 2: the request stream's shape, and whether its user agents are modern (the fast path's job). */
  stream?: { shape: string; modern: boolean };
  note?: string;
  /** Raw measurements, for last-run.json. */
  raw?: unknown;
}

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Per-run values of `field` from a row's raw measurements, when it has one per run. */
function perRun(row: Row, field: 'rps' | 'rate' | 'cpuUs'): number[] | null {
  if (!Array.isArray(row.raw)) return null;
  const values = (row.raw as Record<string, unknown>[]).map((r) => r[field]);
  return values.every((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0) ? values : null;
}

/**
 * Median of the per-run ratios (run k of the row over run k of its baseline), or null when the runs
 * do not pair up. Runs are interleaved, so run k of both was measured within seconds: drift of a
 * shared machine (seconds to minutes) cancels out of each pair, which a ratio of medians lets through.
 */
function pairedRatio(row: Row, base: Row, field: 'rps' | 'rate' | 'cpuUs', invert: boolean): number | null {
  const a = perRun(row, field) ?? (field === 'rps' ? perRun(row, 'rate') : null);
  const b = perRun(base, field) ?? (field === 'rps' ? perRun(base, 'rate') : null);
  if (a === null || b === null || a.length !== b.length || a.length === 0) return null;
  return median(a.map((x, i) => (invert ? (b[i] as number) / x : x / (b[i] as number))));
}

/**
 * Fills `ratio` (and `cpuRatio`) of every row that names a baseline present in `rows`: the median of
 * the paired per-run ratios when there are several runs, else the ratio of the two values.
 */
export function applyBaselines(rows: Row[]): void {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    if (row.baseline === undefined || row.rps === undefined) continue;
    const base = byId.get(row.baseline);
    if (base === undefined) continue;
    if (base.rps !== undefined && base.rps > 0) row.ratio = pairedRatio(row, base, 'rps', false) ?? row.rps / base.rps;
    if (base.cpuUs !== undefined && row.cpuUs !== undefined && row.cpuUs > 0) row.cpuRatio = pairedRatio(row, base, 'cpuUs', true) ?? base.cpuUs / row.cpuUs;
  }
}

function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function targetCell(row: Row): string {
  if (row.target === undefined) return '';
  if (row.ratio === undefined) return `≥ ${row.target.toFixed(2)}`;
  const met = row.ratio >= row.target;
  const by = Math.abs(row.ratio - row.target) * 100;
  return `≥ ${row.target.toFixed(2)}: ${met ? 'met' : 'MISSED'} (${met ? '+' : '−'}${by.toFixed(1)} pts)`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| Scenario | req/s | p50 ms | p99 ms | Ratio | Target | Server CPU µs/req | CPU ratio | Notes |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const cpuRatio = row.cpuRatio !== undefined ? row.cpuRatio.toFixed(2) : row.baseline === row.id && row.cpuUs !== undefined ? '1.00' : '–';
    const ratio = row.ratio !== undefined ? row.ratio.toFixed(2) : row.baseline === row.id && row.rps !== undefined ? '1.00' : '–';
    lines.push(
      `| ${escapeCell(row.scenario)} | ${row.rps === undefined ? '–' : thousands(row.rps)} | ${ms(row.p50)} | ${ms(row.p99)} | ${ratio} | ${targetCell(row)} | ${row.cpuUs === undefined ? '–' : row.cpuUs.toFixed(0)} | ${cpuRatio} | ${escapeCell(row.note ?? '')} |`,
    );
  }
  return lines.join('\n');
}

export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** One of the performance issue's targets, checked against this run's rows. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** null when a row it needs is missing (group skipped, nginx not installed). */
  met: boolean | null;
}

interface CheckSpec {
  target: string;
  /** The measured value, or null when a row is missing; `of` names what it was measured on. */
  value(byId: ReadonlyMap<string, Row>): number | null | { value: number; of: string };
  /** `min`: met when value >= limit; `max`: met when value <= limit. */
  kind: 'min' | 'max';
  limit: number;
  format(value: number): string;
}

const ratioOf = (a: string, b: string, field: 'rps' | 'p99' = 'rps') => (byId: ReadonlyMap<string, Row>): number | null => {
  const row = byId.get(a);
  const base = byId.get(b);
  if (row === undefined || base === undefined) return null;
  if (field === 'rps') {
    const paired = pairedRatio(row, base, 'rps', false);
    if (paired !== null) return paired;
  }
  const x = row[field];
  const y = base[field];
  return x === undefined || y === undefined || !(y > 0) ? null : x / y;
};
const times = (v: number) => `${v.toFixed(3)}×`;

/**
 * Scenario 2: the lowest ratio among the streams whose shapes are (or are not) modern, each row to
 * bare Koa under its own stream, and which shape it was. An attacker picks the slowest stream.
 */
const slowestStream = (modern: boolean) => (byId: ReadonlyMap<string, Row>): { value: number; of: string } | null => {
  let slowest: { value: number; of: string } | null = null;
  for (const row of byId.values()) {
    if (row.stream?.modern !== modern || row.baseline === undefined) continue;
    const value = ratioOf(row.id, row.baseline)(byId);
    if (value !== null && Number.isFinite(value) && (slowest === null || value < slowest.value)) slowest = { value, of: row.stream.shape };
  }
  return slowest;
};

const CHECKS: readonly CheckSpec[] = [
  { target: '1. middleware, one user agent: ≥ 0.97 of bare Koa', value: ratioOf('koa-fallback', 'koa-bare'), kind: 'min', limit: 0.97, format: times },
  {
    target: '2. a new modern user agent per request, the slowest of the shapes: ≥ 0.60 of bare Koa under the same stream',
    value: slowestStream(true),
    kind: 'min',
    limit: 0.6,
    format: times,
  },
  {
    target: '2. a new user agent per request that only the full parser reads (unknown product, a token it leaves to ua-parser-js), the slower: ≥ 0.60 of bare Koa under the same stream',
    value: slowestStream(false),
    kind: 'min',
    limit: 0.6,
    format: times,
  },
  { target: '4. proxy, 1 process: ≥ 0.5 of nginx (1 worker)', value: ratioOf('proxy-ours', 'proxy-nginx'), kind: 'min', limit: 0.5, format: times },
  { target: '4. proxy --workers 2: ≥ 0.5 of nginx (1 worker)', value: ratioOf('proxy-ours-workers', 'proxy-nginx'), kind: 'min', limit: 0.5, format: times },
  { target: '4. proxy, 1 process: ≥ 1.5 of the http-proxy proxy', value: ratioOf('proxy-ours', 'proxy-http-proxy'), kind: 'min', limit: 1.5, format: times },
  { target: "4. proxy, 1 process: p99 ≤ 2× nginx's", value: ratioOf('proxy-ours', 'proxy-nginx', 'p99'), kind: 'max', limit: 2, format: times },
  { target: '5. full TLS 1.2 handshakes/s: ≥ 0.7 of nginx', value: ratioOf('hs-node-new', 'hs-nginx-new'), kind: 'min', limit: 0.7, format: times },
  {
    target: '5. ticket resumption: every reconnection resumed',
    value: (byId) => {
      const raw = byId.get('hs-node-reuse')?.raw as { resumed: number; connections: number }[] | undefined;
      if (!raw) return null;
      const connections = raw.reduce((n, r) => n + r.connections, 0);
      return connections === 0 ? null : raw.reduce((n, r) => n + r.resumed, 0) / connections;
    },
    kind: 'min',
    limit: 1,
    format: (v) => `${(v * 100).toFixed(1)} %`,
  },
  {
    target: 'M. 1 M distinct clients (BENCH_MEMORY_REQUESTS): RSS growth < 100 MiB',
    value: (byId) => {
      const raw = byId.get('memory-rss')?.raw as { rssBefore: number; rssAfter: number } | undefined;
      return raw ? (raw.rssAfter - raw.rssBefore) / (1024 * 1024) : null;
    },
    kind: 'max',
    limit: 100,
    format: (v) => `${v.toFixed(1)} MiB`,
  },
  {
    target: 'M. 1 M distinct clients (BENCH_MEMORY_REQUESTS): stats file < 256 KiB',
    value: (byId) => {
      const raw = byId.get('memory-file')?.raw as { fileBytes: number } | undefined;
      return raw ? raw.fileBytes / 1024 : null;
    },
    kind: 'max',
    limit: 256,
    format: (v) => `${v.toFixed(1)} KiB`,
  },
];

export function targetChecks(rows: readonly Row[]): TargetCheck[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return CHECKS.map((spec) => {
    const measured = spec.value(byId);
    const value = measured === null || typeof measured === 'number' ? measured : measured.value;
    if (value === null || !Number.isFinite(value)) return { target: spec.target, measured: 'not measured in this run', met: null };
    const of = measured !== null && typeof measured === 'object' ? ` (${measured.of})` : '';
    return { target: spec.target, measured: `${spec.format(value)}${of}`, met: spec.kind === 'min' ? value >= spec.limit : value <= spec.limit };
  });
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const lines = ['| Target | Measured | Met? |', '| --- | ---: | --- |'];
  for (const check of checks) lines.push(`| ${escapeCell(check.target)} | ${check.measured} | ${check.met === null ? '–' : check.met ? 'yes' : 'no'} |`);
  return lines.join('\n');
}
