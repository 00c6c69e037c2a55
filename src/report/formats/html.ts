import { escapeHtml } from '../../html.js';
import { PROTOCOL_LABELS, type ProtocolLabel } from '../../stats/labels.js';
import { MAX_HOSTS } from '../../stats/model.js';
import { WINDOWS, type ReportDocument, type SeriesPoint, type WindowName, type WindowReport } from '../document.js';
import type { SiteRow } from '../sites.js';
import { CSV_TABLES } from './csv.js';

const PROTOCOL_COLOURS: Record<ProtocolLabel, string> = {
  TLSv1: '#c0392b',
  'TLSv1.1': '#e67e22',
  'TLSv1.2': '#2e86c1',
  'TLSv1.3': '#1e8449',
  none: '#95a5a6',
};

/** What the dashboard shows: one window of the report, or its `span` (a report built from logs). */
export type DashboardView = WindowName | 'span';

const WINDOW_TITLES: Record<DashboardView, string> = { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days', span: 'whole log' };

/** Where the dashboard's links go: by default `?window=…` and `report.json` under `basePath`. */
export interface DashboardLinks {
  view(view: DashboardView): string;
  /** The JSON document, or null for no link (a file opened from disk has none beside it). */
  json: string | null;
}

/**
 * The dashboard: server-rendered HTML with inline SVG, no script and no external resource, so it works
 * behind the strictest CSP and on a phone. Every figure is taken from the same `ReportDocument` that
 * `report.json` returns, and carries a `data-figure` attribute naming its JSON path.
 */
export function renderDashboard(report: ReportDocument, window: DashboardView, basePath: string, filter?: SiteFilter, links: DashboardLinks = queryLinks(basePath)): string {
  const w = window === 'span' ? report.span : report.windows[window];
  if (w === undefined) throw new RangeError('legacy-tls-fallback: this report has no span (only a report built from logs has)');
  const figure = (path: string, text: string | number) => `<span data-figure="${escapeHtml(path)}">${escapeHtml(String(text))}</span>`;
  const views: DashboardView[] = report.span ? [...WINDOWS, 'span'] : [...WINDOWS];
  const tabs = views.map((name) =>
    name === window
      ? `<strong>${WINDOW_TITLES[name]}</strong>`
      : `<a href="${escapeHtml(links.view(name))}">${WINDOW_TITLES[name]}</a>`,
  ).join(' · ');

  const protocolRows = PROTOCOL_LABELS.map(
    (p) => `<tr><th scope="row"><span class="key" style="background:${PROTOCOL_COLOURS[p]}"></span>${p === 'none' ? 'no TLS / unknown' : p}</th><td>${figure(`requests.byProtocol.${p}`, w.requests.byProtocol[p])}</td><td>${figure(`visitors.byProtocol.${p}`, w.visitors.byProtocol[p])}</td></tr>`,
  ).join('\n');

  const whatIfRows = w.whatIf
    .map(
      (row, i) => `<tr><th scope="row">minimum ${row.minimum}</th><td data-label="Requests sent to the fallback page">${figure(`whatIf.${i}.requests`, row.requests)} (${figure(`whatIf.${i}.requestShare`, percent(row.requestShare))})</td><td data-label="Browser visitors sent there">${figure(`whatIf.${i}.browserVisitors`, row.browserVisitors)} (${figure(`whatIf.${i}.browserVisitorShare`, percent(row.browserVisitorShare))})</td><td data-label="Connections turned away">${figure(`whatIf.${i}.connections`, row.connections)} (${figure(`whatIf.${i}.connectionShare`, percent(row.connectionShare))})</td><td data-label="Already cannot connect">${figure(`whatIf.${i}.cannotConnect`, row.cannotConnect)}</td></tr>`,
    )
    .join('\n');

  const census = censusSection(w, figure);

  const clientRows = w.topLegacyClients.length
    ? w.topLegacyClients
        .map(
          // Unknown parts ('?') are left empty rather than printed: `Googlebot`, not `Googlebot ?`.
          (c, i) => `<tr><td>${figure(`topLegacyClients.${i}.browser`, c.browser)}${c.version === '?' || c.version === '' ? '' : ` ${escapeHtml(c.version)}`}</td><td${c.os === '?' ? '' : ' data-label="System"'}>${c.os === '?' ? '' : escapeHtml(c.os)}</td><td data-label="Requests">${figure(`topLegacyClients.${i}.requests`, c.requests)}</td><td data-label="Visitors">${figure(`topLegacyClients.${i}.visitors`, c.visitors)}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="4">No legacy client in this period.</td></tr>';

  const failureRows = Object.entries(w.handshakeFailures.byReason)
    .map(([reason, n]) => `<tr><th scope="row">${escapeHtml(reason)}</th><td>${figure(`handshakeFailures.byReason.${reason}`, n)}</td></tr>`)
    .join('\n');

  const failed = w.upstreamErrors;
  // Only the proxy has an upstream, and a healthy one has no failures: the box appears when it matters.
  const upstream =
    failed.total > 0
      ? `<p class="warn">The upstream failed: ${figure('upstreamErrors.total', failed.total)} ${failed.total === 1 ? 'request was' : 'requests were'} answered by the proxy itself in this period, ${figure('upstreamErrors.byStatus.502', failed.byStatus['502'])} with 502 Bad Gateway (the site could not be reached, or answered badly) and ${figure('upstreamErrors.byStatus.504', failed.byStatus['504'])} with 504 Gateway Timeout (no answer in time). The proxy's log has a line a minute with the error codes.</p>`
      : '';

  const storage = report.storage.error
    ? report.storage.store === 'redis'
      ? `<p class="warn">The Redis store ${escapeHtml(report.storage.location ?? '')} cannot be reached (${escapeHtml(report.storage.error)}): this server counts in memory and writes it all when Redis is back. Until then this report shows the last numbers read from Redis and this server's own since.</p>`
      : `<p class="warn">The stats file cannot be written (${escapeHtml(report.storage.error)}): counts are kept in memory and will be saved when writing works again.</p>`
    : '';
  const note = report.storage.note ? `<p class="warn">${escapeHtml(report.storage.note)}</p>` : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Legacy TLS report: ${WINDOW_TITLES[window]}</title>
<style>
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1f23; background: #f6f7f9; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
section, .cards > div { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 0.8rem 1rem; }
section { margin: 1rem 0; overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: 0.8rem; }
.cards .big { font-size: 1.6rem; font-weight: 600; display: block; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #eef0f2; }
td { font-variant-numeric: tabular-nums; }
.key { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; border-radius: 2px; }
svg { width: 100%; height: auto; display: block; }
section > h2:first-child { margin-top: 0; }
/* The charts scale with the screen; keep their labels legible when they are drawn small. */
@media (max-width: 40rem) { svg text { font-size: 22px; } }
@media (max-width: 30rem) { svg text { font-size: 28px; } }
.warn { background: #fdecea; border: 1px solid #f5c6cb; padding: 0.6rem 0.8rem; border-radius: 6px; }
.muted { color: #5f6b7a; font-size: 0.9em; }
.axis { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 1rem; color: #5f6b7a; font-size: 0.85em; }
.ok { color: #1e8449; }
/* On a phone a wide table becomes one block per row, each cell labelled: nothing scrolls sideways. */
@media (max-width: 40rem) {
  table.stack thead { display: none; }
  table.stack tr { display: block; padding: 0.3rem 0; border-bottom: 1px solid #dde1e6; }
  table.stack th, table.stack td { display: block; border: 0; padding: 0.1rem 0.2rem; }
  table.stack td[data-label]::before { content: attr(data-label) ": "; color: #5f6b7a; }
}
</style>
</head>
<body>
<main>
<h1>Legacy TLS traffic</h1>
<p>${tabs}</p>
<p class="muted">From ${escapeHtml(dateTime(w.from))} to ${escapeHtml(dateTime(w.to))}. Generated ${escapeHtml(dateTime(report.generatedAt))}.${links.json === null || window === 'span' ? '' : ` The same figures as <a href="${escapeHtml(links.json)}">report.json</a>; tables as CSV: ${csvLinks(basePath, window)}.`}</p>
${storage}
${note}
${upstream}
<div class="cards">
<div>Requests<span class="big">${figure('requests.total', w.requests.total)}</span></div>
<div>Legacy share<span class="big">${figure('legacyShare', percent(w.legacyShare))}</span>${figure('requests.legacy', w.requests.legacy)} requests</div>
<div>Legacy share among browsers${w.requests.byKind.browser === 0 ? '<span class="big">no data</span>no browser traffic in this period' : `<span class="big">${figure('legacyShareBrowsers', percent(w.legacyShareBrowsers))}</span>bots and libraries left out`}</div>
<div>Visitors (approx.)<span class="big">${figure('visitors.total', w.visitors.total)}</span>${figure('visitors.legacy', w.visitors.legacy)} on legacy clients</div>
</div>
${links.json === null || window === 'span' ? '' : sitesSection(report, window, basePath, filter)}
<section>
<h2>What if you raised the minimum?</h2>
<table class="stack">
<thead><tr><th></th><th>Requests sent to the fallback page</th><th>Browser visitors sent there</th><th>Connections turned away (per connection)</th><th>Already cannot connect</th></tr></thead>
<tbody>
${whatIfRows}
</tbody>
</table>
<p class="muted">"Connections turned away": connections whose ClientHello offers nothing at or above the minimum, counted per connection, including clients that never make a request. "Already cannot connect": clients whose handshake fails today (protocol too old, or no cipher in common), such as IE 6 and IE 8 on Windows XP. The fallback page's own views are counted apart, not as more requests lost: ${figure('pageViews.legacy', w.pageViews.legacy)} from legacy clients (${figure('pageViews.total', w.pageViews.total)} in all).</p>
</section>
${census}
<section>
<h2>Legacy share over time</h2>
${shareChart(w.series, window !== '24h')}
</section>

<section>
<h2>Protocol mix ${window === '24h' ? 'per hour' : w.series.length > 1 && Date.parse(w.series[1]?.start ?? '') - Date.parse(w.series[0]?.start ?? '') > 86_400_000 ? 'over time' : 'per day'}</h2>
${protocolChart(w.series, window !== '24h')}
<table>
<thead><tr><th>Protocol</th><th>Requests</th><th>Visitors</th></tr></thead>
<tbody>
${protocolRows}
</tbody>
</table>
</section>

<section>
<h2>Top legacy clients</h2>
<table class="stack">
<thead><tr><th>Client</th><th>System</th><th>Requests</th><th>Visitors</th></tr></thead>
<tbody>
${clientRows}
</tbody>
</table>
</section>

<section>
<h2>Handshake failures</h2>
<p>${figure('handshakeFailures.total', w.handshakeFailures.total)} ${w.handshakeFailures.total === 1 ? 'handshake' : 'handshakes'} failed; ${figure('handshakes.total', w.handshakes.total)} completed (${figure('handshakes.resumed', w.handshakes.resumed)} resumed).</p>
<table>
<tbody>
${failureRows}
</tbody>
</table>
</section>
${instancesSection(report)}
</main>
</body>
</html>
`;
}

const OUTCOME_TITLES: Record<string, string> = {
  'not-tls': 'not TLS (plain HTTP, junk)',
  unreadable: 'unreadable ClientHello',
  'no-hello': 'closed before a ClientHello',
};

/** The ClientHello census: who fails at the handshake, by name, and connections by offered version. */
function censusSection(w: WindowReport, figure: (path: string, text: string | number) => string): string {
  if (w.offered.connections === 0 && w.namedFailures.length === 0 && w.passThrough.relayed === 0) return '';
  const intercepted = w.requests.byReason['intercepted-or-spoofed'];
  const failureRows = w.namedFailures.length
    ? w.namedFailures
        .map(
          (row, i) =>
            `<tr><td>${row.name === null ? `<span class="muted">unknown client</span>` : figure(`namedFailures.${i}.name`, row.name)}</td><td>${figure(`namedFailures.${i}.offered`, row.offered)}</td><td><code>${figure(`namedFailures.${i}.ja4`, row.ja4)}</code></td><td>${figure(`namedFailures.${i}.connections`, row.connections)}</td><td>${figure(`namedFailures.${i}.last24h`, row.last24h)}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="5">No failed handshake with a readable ClientHello in this period.</td></tr>';
  const versionRows = Object.entries(w.offered.byVersion)
    .filter(([, n]) => n > 0)
    .map(([outcome, n]) => `<tr><th scope="row">${escapeHtml(OUTCOME_TITLES[outcome] ?? outcome)}</th><td>${figure(`offered.byVersion.${outcome}`, n)}</td></tr>`)
    .join('\n');
  const pass = w.passThrough;
  const passThrough =
    pass.relayed + pass.terminated + pass['upstream-unavailable'] > 0
      ? `<p>Pass-through: ${figure('passThrough.relayed', pass.relayed)} connections were relayed to the existing server and ${figure('passThrough.terminated', pass.terminated)} terminated here${pass['upstream-unavailable'] > 0 ? `; ${figure('passThrough.upstream-unavailable', pass['upstream-unavailable'])} were reset because the existing server could not be reached` : ''}. The census below counts every connection; requests, visitors and handshakes above count only those terminated here.</p>`
      : '';
  return `<section>
<h2>Who cannot connect</h2>
${passThrough}
<p class="muted">Failed handshakes by what the client offered, named from the fingerprints of testssl.sh's recorded clients.</p>
<table>
<thead><tr><th>Client</th><th>Highest version offered</th><th>JA4</th><th>Failed connections</th><th>Last 24 hours</th></tr></thead>
<tbody>
${failureRows}
</tbody>
</table>
</section>

<section>
<h2>Highest version offered (per connection)</h2>
<p>${figure('offered.connections', w.offered.connections)} connections, each counted once by its ClientHello, whether or not it made a request.${intercepted > 0 ? ` ${figure('requests.byReason.intercepted-or-spoofed', intercepted)} requests named a current browser on a connection offering nothing above TLS 1.0: intercepted (a TLS-inspecting middlebox, old antivirus) or spoofed (a bot).` : ''}</p>
<table>
<tbody>
${versionRows}
</tbody>
</table>
</section>
`;
}

/**
 * The servers that write into a shared store (or the files of a merged report), so an owner sees that
 * every one reports: one whose "last seen" lags the others has stopped sending.
 */
function instancesSection(report: ReportDocument): string {
  const { instances, instance, location } = report.storage;
  if (!instances || instances.length === 0) return '';
  const rows = instances
    .map((row, i) => `<tr><td>${escapeHtml(row.name)}${row.name === instance ? ' <span class="muted">(this server)</span>' : ''}</td><td data-instance="${i}.lastSeen">${escapeHtml(row.lastSeen)}</td><td data-instance="${i}.requests">${row.requests}</td></tr>`)
    .join('\n');
  const where = report.storage.store === 'redis' ? `Every server writing to ${escapeHtml(location ?? 'the store')}; these figures are all of theirs together.` : 'The stats files merged into this report.';
  return `<section>
<h2>Instances</h2>
<table>
<thead><tr><th>Instance</th><th>Last seen</th><th>Requests</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="muted">${where}</p>
</section>`;
}

/**
 * Every view of a report in one self-contained file that opens from disk (`analyse --html`): each view
 * is a `<main id="view-…">`, the tabs are `#view-…` links, and CSS `:target` shows the one picked
 * (no script, so it still works under the strictest settings). The whole log is shown first when the
 * report has a span, else 30 days. `notes`: plain-text lines shown above every view (how the log
 * could be read), escaped here.
 */
export function renderDashboardFile(report: ReportDocument, notes: readonly string[] = []): string {
  const views: DashboardView[] = report.span ? [...WINDOWS, 'span'] : [...WINDOWS];
  const links: DashboardLinks = { view: (view) => `#view-${view}`, json: null };
  const notesHtml = notes.map((note) => `<p class="note">${escapeHtml(note)}</p>`).join('\n');
  const bodies = views.map((view) => {
    const html = renderDashboard(report, view, '', undefined, links);
    const main = html.slice(html.indexOf('<main>') + '<main>'.length, html.lastIndexOf('</main>'));
    return `<main class="view" id="view-${view}">${main.replace('</h1>', `</h1>\n${notesHtml}`)}</main>`;
  });
  const first = renderDashboard(report, views[views.length - 1] as DashboardView, '', undefined, links);
  const fallback = `#view-${views[views.length - 1] as DashboardView}`;
  // The default view is the last in the document, so that `:target ~` can hide it when another is picked.
  const css = `.view { display: none; }\n${fallback} { display: block; }\n.view:target { display: block; }\n.view:target ~ ${fallback} { display: none; }\n.note { background: #fff8e1; border: 1px solid #f0d58c; padding: 0.6rem 0.8rem; border-radius: 6px; }\n</style>`;
  return `${first.slice(0, first.indexOf('<main>')).replace('</style>', css).replace(/<title>[^<]*<\/title>/, '<title>Legacy TLS report from logs</title>')}${bodies.join('\n')}\n</body>\n</html>\n`;
}

function queryLinks(basePath: string): DashboardLinks {
  return { view: (view) => `${basePath}?window=${view}`, json: `${basePath}report.json` };
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

const WIDTH = 720;
const HEIGHT = 180;
// Tick labels sit inside the plot, above their grid lines, so no screen width cuts them; the dates
// under the chart are HTML, which wraps instead of overflowing.
const PAD = { left: 4, right: 4, top: 30, bottom: 4 };

/** A round axis maximum at or above `max` (1, 2, 2.5 or 5 times a power of ten) and its two ticks. */
export function niceScale(max: number): { top: number; ticks: number[] } {
  const positive = max > 0 && Number.isFinite(max) ? max : 1;
  const power = 10 ** Math.floor(Math.log10(positive));
  const top = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= positive * (1 - 1e-9)) ?? 10 * power;
  return { top, ticks: [0, top / 2, top] };
}

function frame(series: readonly { start: string }[], body: string, ticks: number[], top: number, label: (value: number) => string, daily: boolean): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const grid = ticks
    .map((value) => {
      const y = PAD.top + plotHeight * (1 - value / top);
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e3e6ea"/><text x="${PAD.left + 2}" y="${(y - 4).toFixed(1)}" font-size="12" fill="#5f6b7a" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeHtml(label(value))}</text>`;
    })
    .join('');
  const first = series[0]?.start;
  const last = series.at(-1)?.start;
  const when = (iso: string | undefined) => (iso === undefined ? '' : daily ? date(iso) : dateTime(iso));
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">${body}${grid}</svg>\n<div class="axis"><span>${escapeHtml(when(first))}</span><span>${escapeHtml(when(last))}</span></div>`;
}

function slot(series: readonly unknown[]): number {
  return (WIDTH - PAD.left - PAD.right) / Math.max(series.length, 1);
}

/** Bars of a share per point, on a round scale (at least 1 %). */
function shareBars(points: readonly { start: string; part: number; whole: number }[], daily: boolean, threshold?: number): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const { top, ticks } = niceScale(Math.max(0.01, threshold ?? 0, ...points.map((p) => (p.whole ? p.part / p.whole : 0))));
  const step = slot(points);
  const bars = points
    .map((p, i) => {
      const share = p.whole ? p.part / p.whole : 0;
      const h = (share / top) * plotHeight;
      return `<rect x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${(PAD.top + plotHeight - h).toFixed(1)}" width="${(step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="#c0392b"><title>${escapeHtml(daily ? date(p.start) : dateTime(p.start))}: ${p.whole ? percent(share) : 'no data'} legacy (${p.part} of ${p.whole})</title></rect>`;
    })
    .join('');
  const line =
    threshold === undefined
      ? ''
      : `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${(PAD.top + plotHeight * (1 - threshold / top)).toFixed(1)}" y2="${(PAD.top + plotHeight * (1 - threshold / top)).toFixed(1)}" stroke="#1e8449" stroke-dasharray="6 4"><title>readiness threshold ${percent(threshold)}</title></line>`;
  return frame(points, bars + line, ticks, top, (value) => shortPercent(value, top), daily);
}

function shareChart(series: SeriesPoint[], daily: boolean): string {
  return shareBars(
    series.map((p) => ({ start: p.start, part: p.legacy, whole: p.requests })),
    daily,
  );
}

function protocolChart(series: SeriesPoint[], daily: boolean): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const { top, ticks } = niceScale(Math.max(1, ...series.map((p) => p.requests)));
  const step = slot(series);
  const bars = series
    .map((p, i) => {
      let y = PAD.top + plotHeight;
      return PROTOCOL_LABELS.map((protocol) => {
        const n = p.byProtocol[protocol];
        if (!n) return '';
        const h = (n / top) * plotHeight;
        y -= h;
        return `<rect x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${(step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${PROTOCOL_COLOURS[protocol]}"><title>${escapeHtml(daily ? date(p.start) : dateTime(p.start))}: ${n} on ${protocol}</title></rect>`;
      }).join('');
    })
    .join('');
  // Request counts are whole: a top of 2.5 or below shows its ticks with one decimal at most.
  return frame(series, bars, ticks, top, (value) => (Number.isInteger(value) ? String(value) : value.toFixed(1)), daily);
}

/** `30%`, `2.5%`, `0.25%`: as many decimals as the scale needs, no more. */
function shortPercent(value: number, top: number): string {
  const digits = Math.max(0, Math.min(4, -Math.floor(Math.log10(top * 100)) + 1));
  return `${(value * 100).toFixed(value === 0 ? 0 : digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `28 Nov 2026`: an ISO timestamp (or `YYYY-MM-DD`) as people write dates; UTC, said so where it matters. */
export function date(iso: string): string {
  const at = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/** `28 Nov 2026, 14:00 UTC`. The page has no script, so the viewer's time zone is unknown: UTC, named. */
export function dateTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${date(iso)}, ${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')} UTC`;
}

function csvLinks(basePath: string, window: WindowName): string {
  return CSV_TABLES.map((table) => `<a href="${escapeHtml(`${basePath}report.csv?table=${table}&window=${window}`)}">${table}</a>`).join(', ');
}

/** A dashboard narrowed to one host or one path group (`?host=` / `?group=`, checked against the report). */
export interface SiteFilter {
  scope: 'host' | 'group';
  name: string;
}

/** The site row a filter names, or undefined when the report has none by that name. */
export function findSite(report: ReportDocument, filter: SiteFilter): SiteRow | undefined {
  return (filter.scope === 'host' ? report.sites.hosts : report.sites.groups).find((row) => row.name === filter.name);
}

function siteLabel(row: SiteRow): string {
  if (row.scope === 'site') return 'the whole site';
  if (row.name === '') return row.scope === 'host' ? '(no host named)' : '(outside every group)';
  return row.name;
}

/**
 * Per host and per group: the switch-off date and days left, the legacy share among browsers, and
 * readiness; each name links to the dashboard narrowed to it (a plain link, no script). Narrowed, the
 * section shows that one site's legacy share trend against its readiness threshold and date.
 */
function sitesSection(report: ReportDocument, window: WindowName, basePath: string, filter: SiteFilter | undefined): string {
  const { sites } = report;
  const selected = filter === undefined ? undefined : findSite(report, filter);
  const link = (row: SiteRow) => {
    if (row.scope === 'site') return selected === undefined ? '<strong>the whole site</strong>' : `<a href="${escapeHtml(`${basePath}?window=${window}`)}">the whole site</a>`;
    const here = selected !== undefined && selected.scope === row.scope && selected.name === row.name;
    const text = escapeHtml(siteLabel(row));
    return here ? `<strong>${text}</strong>` : `<a href="${escapeHtml(`${basePath}?window=${window}&${row.scope}=${encodeURIComponent(row.name)}`)}">${text}</a>`;
  };
  const rows = [sites.site, ...sites.hosts, ...sites.groups].map((row) => {
    const w = row.windows[window];
    const share = w.legacyShareBrowsers === null ? 'no data' : percent(w.legacyShareBrowsers);
    // No date: the mode applies now (`redirect`, `render`: switched off; `observe`: counted only).
    const switchOff = row.switchOff === null ? (row.mode === null ? 'no date' : `no date (${row.mode} now)`) : `${date(row.switchOff.date)}${row.switchOff.phase === 'before' ? ` (${row.switchOff.daysLeft} ${row.switchOff.daysLeft === 1 ? 'day' : 'days'} left)` : ' (passed)'}`;
    const ready = row.readiness.ready ? `<span class="ok">ready</span> since ${escapeHtml(date(row.readiness.since!))}` : row.readiness.since === null ? 'not ready' : `not yet: ${row.readiness.daysBelow} of ${row.readiness.days} days`;
    return `<tr><th scope="row">${row.scope === 'site' ? '' : `${row.scope}: `}${link(row)}</th><td data-label="Switch-off">${escapeHtml(switchOff)}</td><td data-label="Requests">${w.requests}</td><td data-label="Legacy among browsers">${share}</td><td data-label="Readiness">${ready}</td></tr>`;
  });
  const focus = selected ?? (sites.site.switchOff === null ? undefined : sites.site);
  const trend =
    focus === undefined
      ? ''
      : `<h3>${escapeHtml(siteLabel(focus))}: legacy share among browsers, against the readiness threshold (${percent(sites.readiness.threshold)})${focus.switchOff === null ? '' : ` and the switch-off on ${escapeHtml(date(focus.switchOff.date))}`}</h3>\n${shareBars(
          focus.windows[window].series.map((p) => ({ start: p.start, part: p.legacyBrowsers, whole: p.browsers })),
          window !== '24h',
          sites.readiness.threshold,
        )}`;
  return `<section>
<h2>Switch-off plan, per host and group</h2>
<table class="stack">
<thead><tr><th>Site</th><th>Switch-off</th><th>Requests</th><th>Legacy among browsers</th><th>Readiness</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<p class="muted">Ready: the daily legacy share among browser visitors has stayed below ${percent(sites.readiness.threshold)} for ${sites.readiness.days} days in a row. Hosts are the ${MAX_HOSTS} busiest seen, then "other".</p>
${trend}
</section>
`;
}
