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

/** Fills `ratio` of every row that names a baseline present in `rows`. */
export function applyBaselines(rows: Row[]): void {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    if (row.baseline === undefined || row.rps === undefined) continue;
    const base = byId.get(row.baseline);
    if (base?.rps !== undefined && base.rps > 0) row.ratio = row.rps / base.rps;
    if (base?.cpuUs !== undefined && row.cpuUs !== undefined && row.cpuUs > 0) row.cpuRatio = base.cpuUs / row.cpuUs;
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
