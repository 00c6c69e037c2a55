import { PROTOCOL_LABELS } from '../../stats/labels.js';
import type { ReportDocument, WindowName } from '../document.js';
import type { SiteRow } from '../sites.js';

/**
 * The report's tables as CSV (RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a quote or a line break, quotes doubled), for the spreadsheets owners send around. Labels come
 * from user agents and Host headers, so a cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`,
 * or a tab or carriage return before one) gets a leading `'`, as OWASP advises: shown, never run.
 * Numbers are written as numbers (shares as fractions, 0.0123), never guarded.
 */

export const CSV_TABLES = ['clients', 'protocols', 'what-if', 'series', 'hosts', 'groups', 'readiness'] as const;
export type CsvTable = (typeof CSV_TABLES)[number];

type Cell = string | number | boolean | null;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One text cell, guarded and quoted as needed. */
export function csvText(value: string): string {
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

function cell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return csvText(value);
}

function csv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map((value) => cell(value)).join(',')).join('\r\n') + '\r\n';
}

/** The table `table` of `window`, or `null` for a name that is none of CSV_TABLES. */
export function renderCsv(report: ReportDocument, window: WindowName, table: string): string | null {
  const w = report.windows[window];
  switch (table as CsvTable) {
    case 'clients':
      return csv(
        ['window', 'browser', 'version', 'os', 'requests', 'visitors'],
        w.topLegacyClients.map((row) => [window, row.browser, row.version, row.os, row.requests, row.visitors]),
      );
    case 'protocols':
      return csv(
        ['window', 'protocol', 'requests', 'visitors', 'handshakes'],
        PROTOCOL_LABELS.map((protocol) => [window, protocol, w.requests.byProtocol[protocol], w.visitors.byProtocol[protocol], w.handshakes.byProtocol[protocol]]),
      );
    case 'what-if':
      return csv(
        ['window', 'minimum', 'requests', 'request_share', 'browser_visitors', 'browser_visitor_share', 'cannot_connect', 'fallback_page_views'],
        w.whatIf.map((row) => [window, row.minimum, row.requests, row.requestShare, row.browserVisitors, row.browserVisitorShare, row.cannotConnect, w.pageViews.legacy]),
      );
    case 'series':
      return csv(
        ['start', 'requests', 'legacy', ...PROTOCOL_LABELS],
        w.series.map((point) => [point.start, point.requests, point.legacy, ...PROTOCOL_LABELS.map((protocol) => point.byProtocol[protocol])]),
      );
    case 'hosts':
    case 'groups':
      return csv(
        ['window', 'scope', 'name', 'configured', 'mode', 'switch_off', 'days_left', 'requests', 'legacy', 'legacy_share', 'browser_requests', 'legacy_browser_requests', 'legacy_share_browsers', 'ready', 'ready_since'],
        [report.sites.site, ...(table === 'hosts' ? report.sites.hosts : report.sites.groups)].map((row) => siteCells(row, window)),
      );
    case 'readiness':
      return csv(
        ['scope', 'name', 'day', 'browser_visitors', 'legacy_browser_visitors', 'share', 'threshold'],
        [report.sites.site, ...report.sites.hosts, ...report.sites.groups].flatMap((row) =>
          row.readiness.daily.map((day) => [row.scope, row.name, day.day, day.browserVisitors, day.legacyBrowserVisitors, day.share, row.readiness.threshold]),
        ),
      );
    default:
      return null;
  }
}

function siteCells(row: SiteRow, window: WindowName): Cell[] {
  const w = row.windows[window];
  return [
    window,
    row.scope,
    row.name,
    row.configured,
    row.mode,
    row.switchOff?.date ?? null,
    row.switchOff?.daysLeft ?? null,
    w.requests,
    w.legacy,
    w.legacyShare,
    w.browsers,
    w.legacyBrowsers,
    w.legacyShareBrowsers,
    row.readiness.ready,
    row.readiness.since,
  ];
}
