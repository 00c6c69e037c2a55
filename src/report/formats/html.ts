import { escapeHtml } from '../../html.js';
import { PROTOCOL_LABELS, type ProtocolLabel } from '../../stats/labels.js';
import { WINDOWS, type ReportDocument, type SeriesPoint, type WindowName } from '../document.js';

const PROTOCOL_COLOURS: Record<ProtocolLabel, string> = {
  TLSv1: '#c0392b',
  'TLSv1.1': '#e67e22',
  'TLSv1.2': '#2e86c1',
  'TLSv1.3': '#1e8449',
  none: '#95a5a6',
};

const WINDOW_TITLES: Record<WindowName, string> = { '24h': 'last 24 hours', '7d': 'last 7 days', '30d': 'last 30 days' };

/**
 * The dashboard: server-rendered HTML with inline SVG, no script and no external resource, so it works
 * behind the strictest CSP and on a phone. Every figure is taken from the same `ReportDocument` that
 * `report.json` returns, and carries a `data-figure` attribute naming its JSON path.
 */
export function renderDashboard(report: ReportDocument, window: WindowName, basePath: string): string {
  const w = report.windows[window];
  const figure = (path: string, text: string | number) => `<span data-figure="${escapeHtml(path)}">${escapeHtml(String(text))}</span>`;
  const tabs = WINDOWS.map((name) =>
    name === window
      ? `<strong>${WINDOW_TITLES[name]}</strong>`
      : `<a href="${escapeHtml(`${basePath}?window=${name}`)}">${WINDOW_TITLES[name]}</a>`,
  ).join(' · ');

  const protocolRows = PROTOCOL_LABELS.map(
    (p) => `<tr><th scope="row"><span class="key" style="background:${PROTOCOL_COLOURS[p]}"></span>${p === 'none' ? 'no TLS / unknown' : p}</th><td>${figure(`requests.byProtocol.${p}`, w.requests.byProtocol[p])}</td><td>${figure(`visitors.byProtocol.${p}`, w.visitors.byProtocol[p])}</td></tr>`,
  ).join('\n');

  const whatIfRows = w.whatIf
    .map(
      (row, i) => `<tr><th scope="row">minimum ${row.minimum}</th><td>${figure(`whatIf.${i}.requests`, row.requests)} (${figure(`whatIf.${i}.requestShare`, percent(row.requestShare))})</td><td>${figure(`whatIf.${i}.browserVisitors`, row.browserVisitors)} (${figure(`whatIf.${i}.browserVisitorShare`, percent(row.browserVisitorShare))})</td><td>${figure(`whatIf.${i}.connections`, row.connections)} (${figure(`whatIf.${i}.connectionShare`, percent(row.connectionShare))})</td><td>${figure(`whatIf.${i}.cannotConnect`, row.cannotConnect)}</td></tr>`,
    )
    .join('\n');

  const census = censusSection(report, window, figure);

  const clientRows = w.topLegacyClients.length
    ? w.topLegacyClients
        .map(
          (c, i) => `<tr><td>${figure(`topLegacyClients.${i}.browser`, c.browser)} ${escapeHtml(c.version)}</td><td>${escapeHtml(c.os)}</td><td>${figure(`topLegacyClients.${i}.requests`, c.requests)}</td><td>${figure(`topLegacyClients.${i}.visitors`, c.visitors)}</td></tr>`,
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
    ? `<p class="warn">The stats file cannot be written (${escapeHtml(report.storage.error)}): counts are kept in memory and will be saved when writing works again.</p>`
    : '';

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
@media (max-width: 40rem) { svg text { font-size: 16px; } }
@media (max-width: 30rem) { svg text { font-size: 20px; } }
.warn { background: #fdecea; border: 1px solid #f5c6cb; padding: 0.6rem 0.8rem; border-radius: 6px; }
.muted { color: #5f6b7a; font-size: 0.9em; }
</style>
</head>
<body>
<main>
<h1>Legacy TLS traffic</h1>
<p>${tabs}</p>
<p class="muted">From ${escapeHtml(w.from)} to ${escapeHtml(w.to)}. Generated ${escapeHtml(report.generatedAt)}. The same figures as <a href="${escapeHtml(`${basePath}report.json`)}">report.json</a>.</p>
${storage}
${upstream}
<div class="cards">
<div>Requests<span class="big">${figure('requests.total', w.requests.total)}</span></div>
<div>Legacy share<span class="big">${figure('legacyShare', percent(w.legacyShare))}</span>${figure('requests.legacy', w.requests.legacy)} requests</div>
<div>Legacy share among browsers<span class="big">${figure('legacyShareBrowsers', percent(w.legacyShareBrowsers))}</span>bots and libraries left out</div>
<div>Visitors (approx.)<span class="big">${figure('visitors.total', w.visitors.total)}</span>${figure('visitors.legacy', w.visitors.legacy)} on legacy clients</div>
</div>

<section>
<h2>What if you raised the minimum?</h2>
<table>
<thead><tr><th></th><th>Requests sent to the fallback page</th><th>Browser visitors sent there</th><th>Connections turned away (per connection)</th><th>Already cannot connect</th></tr></thead>
<tbody>
${whatIfRows}
</tbody>
</table>
<p class="muted">"Connections turned away": connections whose ClientHello offers nothing at or above the minimum, counted per connection, including clients that never make a request. "Already cannot connect": clients whose handshake fails today (protocol too old, or no cipher in common), such as IE 6 and IE 8 on Windows XP.</p>
</section>
${census}
<section>
<h2>Legacy share over time</h2>
${shareChart(w.series)}
</section>

<section>
<h2>Protocol mix ${window === '24h' ? 'per hour' : 'per day'}</h2>
${protocolChart(w.series)}
<table>
<thead><tr><th>Protocol</th><th>Requests</th><th>Visitors</th></tr></thead>
<tbody>
${protocolRows}
</tbody>
</table>
</section>

<section>
<h2>Top legacy clients</h2>
<table>
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
function censusSection(report: ReportDocument, window: WindowName, figure: (path: string, text: string | number) => string): string {
  const w = report.windows[window];
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

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

const WIDTH = 720;
const HEIGHT = 180;
// Room for the axis labels at the larger size phones get (see the CSS).
const PAD = { left: 64, right: 8, top: 12, bottom: 26 };

function frame(series: SeriesPoint[], body: string, yLabel: (fraction: number) => string): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const grid = [0, 0.5, 1]
    .map((f) => {
      const y = PAD.top + plotHeight * (1 - f);
      return `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="#e3e6ea"/><text x="${PAD.left - 4}" y="${y}" dominant-baseline="middle" text-anchor="end" font-size="10" fill="#5f6b7a">${escapeHtml(yLabel(f))}</text>`;
    })
    .join('');
  const first = series[0]?.start.slice(0, 16).replace('T', ' ') ?? '';
  const last = series.at(-1)?.start.slice(0, 16).replace('T', ' ') ?? '';
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg">${grid}${body}<text x="${PAD.left}" y="${HEIGHT - 6}" font-size="10" fill="#5f6b7a">${escapeHtml(first)}</text><text x="${WIDTH - PAD.right}" y="${HEIGHT - 6}" font-size="10" fill="#5f6b7a" text-anchor="end">${escapeHtml(last)}</text></svg>`;
}

function slot(series: SeriesPoint[]): number {
  return (WIDTH - PAD.left - PAD.right) / Math.max(series.length, 1);
}

function shareChart(series: SeriesPoint[]): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const max = Math.max(0.01, ...series.map((p) => (p.requests ? p.legacy / p.requests : 0)));
  const step = slot(series);
  const bars = series
    .map((p, i) => {
      const share = p.requests ? p.legacy / p.requests : 0;
      const h = (share / max) * plotHeight;
      return `<rect x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${(PAD.top + plotHeight - h).toFixed(1)}" width="${(step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="#c0392b"><title>${escapeHtml(p.start)}: ${percent(share)} legacy (${p.legacy} of ${p.requests})</title></rect>`;
    })
    .join('');
  return frame(series, bars, (f) => percent(f * max).replace('.00', ''));
}

function protocolChart(series: SeriesPoint[]): string {
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const max = Math.max(1, ...series.map((p) => p.requests));
  const step = slot(series);
  const bars = series
    .map((p, i) => {
      let y = PAD.top + plotHeight;
      return PROTOCOL_LABELS.map((protocol) => {
        const n = p.byProtocol[protocol];
        if (!n) return '';
        const h = (n / max) * plotHeight;
        y -= h;
        return `<rect x="${(PAD.left + i * step + step * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${(step * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${PROTOCOL_COLOURS[protocol]}"><title>${escapeHtml(p.start)}: ${n} on ${protocol}</title></rect>`;
      }).join('');
    })
    .join('');
  return frame(series, bars, (f) => String(Math.round(f * max)));
}
