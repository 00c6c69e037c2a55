/**
 * The answer to "what do I lose if I switch TLS 1.0/1.1 off, and who is it?" as text, from an analysis
 * document: what `legacy-tls-fallback analyse` prints. Every figure comes from the document that
 * `--json` prints, so the two never disagree. Log text in it (user agents, file names, unreadable
 * lines) has gone through `printable`: a log cannot write to the terminal.
 */
import type { WindowReport } from '../report/document.js';
import { WINDOWS } from '../report/document.js';
import type { AnalysisDocument, AnalysisInfo } from './analyse.js';
import type { LegacyClientRow } from './clients.js';
import { printable } from './errors.js';

const PROTOCOL_NAMES: Record<string, string> = { TLSv1: 'TLS 1.0', 'TLSv1.1': 'TLS 1.1', 'TLSv1.2': 'TLS 1.2', 'TLSv1.3': 'TLS 1.3', none: 'no TLS', SSLv3: 'SSL 3', SSLv2: 'SSL 2' };

/** 1234567 → `1,234,567`; not toLocaleString, whose first call loads ICU data (a tenth of a second). */
function n(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)} %`;
}

function day(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** What the log could not tell, said plainly; null when it had both the protocol and the user agent. */
export function basisNotes(info: AnalysisInfo): string[] {
  const notes: string[] = [];
  const alone = (input: AnalysisInfo['inputs'][number]) => (input.hasProtocol && !input.hasUserAgent ? 'protocol' : !input.hasProtocol && input.hasUserAgent ? 'user agent' : null);
  if (info.basis === 'user agent alone' || info.basis === 'mixed' && info.inputs.some((input) => input.requests > 0 && alone(input) === 'user agent')) {
    notes.push(
      `Analysed by USER AGENT ALONE${info.basis === 'mixed' ? ' for ' + info.inputs.filter((i) => i.requests > 0 && alone(i) === 'user agent').map((i) => printable(i.input, 80)).join(', ') : ''}: the log has no protocol field, so clients on TLS 1.0/1.1 with a modern user agent are not seen and the legacy share is a floor. Add $ssl_protocol (nginx), %{SSL_PROTOCOL}x (Apache) or %sslv (HAProxy) to the log format to see them.`,
    );
  }
  if (info.basis === 'protocol alone' || info.basis === 'mixed' && info.inputs.some((input) => input.requests > 0 && alone(input) === 'protocol')) {
    notes.push(
      `Analysed by PROTOCOL ALONE${info.basis === 'mixed' ? ' for ' + info.inputs.filter((i) => i.requests > 0 && alone(i) === 'protocol').map((i) => printable(i.input, 80)).join(', ') : ''}: the log has no user agent, so people are not told from bots and libraries (the browser figures stay empty) and old browsers on TLS 1.2 are not seen. Add the User-Agent to the log format to tell them apart.`,
    );
  }
  if (info.basis === 'neither') notes.push('No request line with a protocol or a user agent was read: there is no legacy share to give.');
  return notes;
}

function clientLines(rows: readonly LegacyClientRow[]): string[] {
  if (rows.length === 0) return ['    none'];
  const names = rows.map((row) => {
    const name = row.browser === 'unknown' ? `unidentified ${row.kind}` : row.browser;
    return printable(`${name}${row.version && row.version !== '?' ? ` ${row.version}` : ''}${row.os && row.os !== '?' ? ` on ${row.os}` : ''}`, 60);
  });
  const width = Math.max(...names.map((name) => name.length)) + 2;
  return rows.map((row, i) => `    ${(names[i] as string).padEnd(width)}${n(row.requests).padStart(10)} requests ${n(row.visitors).padStart(9)} visitors`);
}

function windowLine(name: string, w: WindowReport): string {
  return `  ${name.padEnd(10)} ${pct(w.legacyShare).padStart(8)} of ${n(w.requests.total)} requests; among browsers ${pct(w.legacyShareBrowsers)}`;
}

/** The summary, lines joined with `\n` and ending with one. */
export function formatSummary(doc: AnalysisDocument): string {
  const info = doc.analysis;
  const out: string[] = [];
  const inputs = info.inputs;
  out.push(`Read ${inputs.length} ${inputs.length === 1 ? 'log' : 'logs'}${info.from && info.to ? `, from ${day(info.from)} to ${day(info.to)} UTC` : ''}:`);
  for (const input of inputs) {
    const format = input.format === null ? (input.lines === 0 && input.error === null ? 'empty' : 'not read') : `${input.format}${input.layout ? ` (${printable(input.layout, 80)})` : ''}, ${input.formatSource ?? ''}`;
    const parts = [`${n(input.lines)} lines`, `${n(input.requests)} requests`];
    if (input.connections > 0) parts.push(`${n(input.connections)} connections`);
    if (input.handshakeFailures > 0) parts.push(`${n(input.handshakeFailures)} failed handshakes`);
    if (input.unreadable > 0) parts.push(`${n(input.unreadable)} unreadable`);
    if (input.skipped > 0) parts.push(`${n(input.skipped)} already imported`);
    out.push(`  ${printable(input.input, 100)}: ${format}${input.compressed ? ', gzip' : ''}; ${parts.join(', ')}${input.error ? `; ENDED EARLY: ${printable(input.error, 200)}` : ''}`);
  }
  out.push('');
  for (const note of basisNotes(info)) out.push(`! ${note}`, '');

  const span = doc.span;
  if (span && span.requests.total > 0) {
    const days = (Date.parse(span.to) - Date.parse(span.from)) / 86_400_000;
    out.push(`Whole log (${day(span.from)} to ${day(span.to)} UTC, ${days.toFixed(1)} days):`);
    out.push(`  Legacy share           ${pct(span.legacyShare)}  (${n(span.requests.legacy)} of ${n(span.requests.total)} requests)`);
    out.push(`  Among browsers         ${pct(span.legacyShareBrowsers)}  (bots and libraries left out: ${n(span.requests.byKind.bot)} bot, ${n(span.requests.byKind.library)} library requests)`);
    const logged = info.requests.byLoggedProtocol;
    const protocols = (['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'SSLv3', 'SSLv2', 'none'] as const).filter((p) => logged[p] > 0 || !p.startsWith('SSL'));
    out.push(`  By protocol            ${protocols.map((p) => `${PROTOCOL_NAMES[p]} ${n(logged[p])}`).join(' · ')}`);
    out.push(`  Legacy by              protocol ${n(span.requests.byReason['tls-version'])}, user agent ${n(span.requests.byReason['user-agent'])} requests (one request may be both)`);
    out.push(`  Visitors (approx.)     ${n(span.visitors.total)}, ${n(span.visitors.legacy)} of them on legacy clients`);
    out.push('');
    out.push('What if you raised the minimum? (whole log)');
    for (const row of span.whatIf) {
      out.push(
        `  minimum ${PROTOCOL_NAMES[row.minimum]}: ${n(row.requests)} requests (${pct(row.requestShare)}) to the fallback page, ${n(row.browserVisitors)} browser visitors (${pct(row.browserVisitorShare)}); already cannot connect: ${n(row.cannotConnect)}`,
      );
    }
    out.push('');
    out.push("The log's own last days (ending at its last line):");
    for (const name of WINDOWS) out.push(windowLine(`last ${name}`, doc.windows[name]));
    if (info.requests.beyondSpan > 0) out.push(`  (${n(info.requests.beyondSpan)} requests older than ${info.spanDays} days before the last line count in the totals only: --span-days)`);
    out.push('');
    out.push('Top legacy clients: browsers (people)');
    out.push(...clientLines(info.legacyClients.browsers));
    out.push('Top legacy clients: bots, libraries and unknown programs');
    out.push(...clientLines(info.legacyClients.others));
    out.push('');
  } else {
    out.push('No request was counted.', '');
  }

  const failures = (span ?? doc.windows['30d']).handshakeFailures;
  if (info.inputs.some((input) => input.format === 'nginx-error')) {
    const reasons = Object.entries(failures.byReason).filter(([, count]) => count > 0);
    out.push(`Handshakes that already fail (already cannot connect): ${n(failures.total)}${reasons.length ? ` (${reasons.map(([reason, count]) => `${reason} ${n(count)}`).join(', ')})` : ''}`, '');
  }

  if (info.census) {
    const c = info.census.span;
    const versions = (['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'SSLv3', 'SSLv2', 'none'] as const).filter((v) => c.byOffered[v] > 0);
    out.push(`Router connections (nginx stream, highest version offered): ${n(c.connections)}`);
    out.push(`  ${versions.map((v) => `${PROTOCOL_NAMES[v]} ${n(c.byOffered[v])}`).join(' · ')}`);
    for (const row of c.whatIf) out.push(`  minimum ${PROTOCOL_NAMES[row.minimum]}: ${n(row.connections)} connections turned away (${pct(row.share)} of TLS connections)`);
    out.push('');
  }

  const unreadable = inputs.reduce((sum, input) => sum + input.unreadable, 0);
  if (unreadable > 0) {
    out.push(`Unreadable lines: ${n(unreadable)} (not counted; the run went on). The first ones:`);
    for (const input of inputs) for (const sample of input.unreadableSamples) out.push(`  ${printable(sample.input, 100)}:${sample.line}: ${printable(sample.reason, 120)}: ${sample.text}`);
    out.push('');
  }

  if (info.imported) {
    const i = info.imported;
    out.push(`Imported into ${i.file ?? `the ${i.store} store`}: ${n(i.requests)} requests${i.skipped > 0 ? `; ${n(i.skipped)} records skipped, already imported before` : ''}.`);
    if (i.beyondRetention > 0) out.push(`  ${n(i.beyondRetention)} of them are older than its retention (${i.retentionDays} days) and were dropped: --retention-days.`);
    out.push('');
  }
  for (const warning of info.warnings) out.push(`! ${printable(warning, 400)}`);
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
