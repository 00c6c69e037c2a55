/**
 * `analyseLogs(inputs, options)`: the logs a site already has, read into the numbers the live path
 * keeps, and the same report. Every request line is classified as the middleware classifies a request
 * (the line's protocol as its TLS facts, `source: 'log'`; its user agent) and counted as the middleware
 * in `observe` mode counts it, at the line's own time; the report's windows end at the log's last line
 * (its last 24 h, 7 d and 30 d), and `span` covers the whole log.
 */
import { randomBytes } from 'node:crypto';
import { buildPolicy } from '../classify/policy.js';
import { buildReport, type ReportDocument, type WindowName, WINDOWS } from '../report/document.js';
import { DAY_MS, hourStart, type ImportRecord, type StatsState } from '../stats/model.js';
import { parseRequestKey, parseTotalsKey } from '../stats/labels.js';
import { fromDocument, toDocument } from '../stats/serialize.js';
import { SipHash24 } from '../stats/siphash.js';
import type { StatsStore } from '../stats/stores/store.js';
import type { StorageStatus } from '../stats/types.js';
import { SLOT_NAMES, type AgentStats } from './agents.js';
import type { CensusWindow } from './census.js';
import type { LegacyClientRow } from './clients.js';
import { LogCounter } from './counter.js';
import { printable } from './errors.js';
import { ANALYSE_OPTIONS, type AnalyseOptions } from './options.js';
import { readLogRecords } from './reader.js';
import type { LogFormatName, LogInputStats, LogProtocol, LogRecord } from './types.js';

/** An input as read, and what was counted of it. */
export interface AnalysedInput extends LogInputStats {
  /** Records counted (requests, connections, failed handshakes). */
  counted: number;
  /**
   * Records not counted because they already were: the input starts as a log imported into the store
   * before (or as an earlier input of this run), and this many of its first records were counted then.
   */
  skipped: number;
  /** The log those records were counted from, and when (ISO); null when nothing was skipped. */
  countedBefore: { input: string; at: string } | null;
  /** Records whose time is more than a day ahead of this machine's clock: a broken line, not counted. */
  future: number;
  requests: number;
  connections: number;
  handshakeFailures: number;
}

/** What a log can tell: with a protocol field and user agents, or one of them only. */
export type AnalysisBasis = 'protocol and user agent' | 'user agent alone' | 'protocol alone' | 'neither' | 'mixed';

export interface ImportResult {
  /** The store's kind (`file`, `redis`…) and file, as its status says. */
  store: string;
  file: string | null;
  /** Requests added to the store (their hours may still be pruned by its retention, see below). */
  requests: number;
  /** Requests older than the store's retention: the store drops them. */
  beyondRetention: number;
  retentionDays: number;
  /** Records that were already in the store (see AnalysedInput.skipped). */
  skipped: number;
}

/** The analysis document's own part: everything a report built from live traffic has no place for. */
export interface AnalysisInfo {
  /** First and last line's time (ISO), null for a log with no record. */
  from: string | null;
  to: string | null;
  inputs: AnalysedInput[];
  basis: AnalysisBasis;
  requests: {
    total: number;
    /** Requests in inputs whose format logs the protocol / the user agent. */
    withProtocolField: number;
    withUserAgent: number;
    /** Requests by protocol as logged: SSL 3 and 2 apart (the report counts them under `none`, and as legacy). */
    byLoggedProtocol: Record<LogProtocol | 'none', number>;
    /** Requests before `spanDays` before the last line: in `totals` only, not in the windows. */
    beyondSpan: number;
  };
  /** nginx `stream` connection logs: connections by the highest version offered, per window. Null without such a log. */
  census: (Record<WindowName | 'span', CensusWindow> & { total: number }) | null;
  /** Legacy clients of the whole log, people apart from programs (the report's top list mixes them). */
  legacyClients: { browsers: LegacyClientRow[]; others: LegacyClientRow[] };
  spanDays: number;
  imported: ImportResult | null;
  /** How the user agents were classified: distinct profiles, table restarts. */
  classification: AgentStats;
  warnings: string[];
}

/** The report of a log (`span` included) and the analysis' own figures: what `analyse --json` prints. */
export interface AnalysisDocument extends ReportDocument {
  analysis: AnalysisInfo;
}

export interface LogAnalysis {
  /** The numbers, as a `TrafficStats` that had seen the log in `observe` mode would hold them. */
  state: StatsState;
  report: AnalysisDocument;
}

const FINGERPRINT_KEY = Buffer.from('legacy-tls-fallback:import-id', 'utf8');
const TOP_CLIENTS = 10;
const FUTURE_SLACK_MS = DAY_MS;

/** Reads `inputs` (paths, `-` for stdin) and counts them; rejects on an input that cannot be opened or told (LogReadError), a store that refuses. */
export async function analyseLogs(inputs: readonly string[], options: AnalyseOptions = {}): Promise<LogAnalysis> {
  const o = ANALYSE_OPTIONS.resolve(options);
  const reader = readLogRecords(inputs, { format: o.format, logFormat: o.logFormat, stdin: o.stdin, unreadableSamples: o.unreadableSamples });
  const warnings: string[] = [];
  const store = o.into;
  const clock = Date.now;
  let salt: Buffer = randomBytes(32);
  let known = new Map<string, ImportRecord>();
  if (store) {
    // Opened before the first line is read: a store that refuses (a live process holds the file) says so at once.
    salt = await store.open({ salt, now: clock, retentionDays: o.retentionDays, warn: (message) => warnings.push(message) });
    const status = store.status();
    if (status.error !== null) {
      await store.close().catch(() => undefined);
      throw new Error(`legacy-tls-fallback: cannot import into ${status.file ?? `the ${status.store} store`}: ${status.error}`);
    }
    known = new Map((await store.read()).imports ?? []);
  }

  const counter = new LogCounter(buildPolicy({ legacyProtocols: o.legacyProtocols, userAgents: o.userAgents }), salt, o.spanDays);
  const ledger = new Ledger(known, clock());
  const limit = clock() + FUTURE_SLACK_MS;
  const perInput = reader.inputs.map(() => ({ counted: 0, skipped: 0, countedBefore: null as AnalysedInput['countedBefore'], future: 0, requests: 0, connections: 0, handshakeFailures: 0 }));
  let current = -1;
  let position = 0;
  let skip = 0;
  let entry: InputEntry | null = null;
  const finishInput = () => {
    if (entry !== null) ledger.finish(entry);
    entry = null;
  };
  try {
    for await (const batch of reader) {
      const index = reader.currentInput;
      const mine = perInput[index] as (typeof perInput)[number];
      if (index !== current) {
        finishInput();
        current = index;
        position = 0;
      }
      for (const record of batch) {
        if (position++ === 0) {
          const stats = reader.inputs[index] as LogInputStats;
          entry = ledger.start(index, stats, record);
          skip = entry.skip;
          if (skip > 0) mine.countedBefore = { input: entry.before?.input ?? '', at: new Date(entry.before?.at ?? 0).toISOString() };
        }
        (entry as InputEntry).records = position;
        (entry as InputEntry).last = record.time;
        if (position <= skip) {
          if (position === skip && record.time !== (entry as InputEntry).before?.last) (entry as InputEntry).mismatch = true;
          mine.skipped++;
          continue;
        }
        if (record.time > limit) {
          mine.future++;
          continue;
        }
        counter.count(record);
        mine.counted++;
        if (record.kind === 'request') mine.requests++;
        else if (record.kind === 'connection') mine.connections++;
        else mine.handshakeFailures++;
      }
      counter.afterBatch();
      o.onProgress?.({ ...reader.progress(), input: index });
    }
    finishInput();
  } catch (error) {
    await store?.close().catch(() => undefined);
    throw error;
  }
  counter.prune();

  for (const [i, stats] of reader.inputs.entries()) {
    const mine = perInput[i] as (typeof perInput)[number];
    if (mine.future > 0) warnings.push(`${stats.input}: ${mine.future} ${mine.future === 1 ? 'line has' : 'lines have'} a time more than a day ahead of this machine's clock; not counted.`);
    const mismatch = ledger.mismatches.get(i);
    if (mismatch) warnings.push(`${stats.input} starts as ${mismatch.input} (counted ${new Date(mismatch.at).toISOString()}) but differs from it at record ${mismatch.records}: its first ${mismatch.records} records were taken as counted then.`);
  }

  const { state } = counter;
  const from = counter.from === Infinity ? null : counter.from;
  const to = counter.to === -Infinity ? null : counter.to;
  const now = to ?? clock();
  const spanFrom = from === null ? null : Math.max(from, hourStart(now) - o.spanDays * DAY_MS);
  const storage: StorageStatus = { store: 'log', file: null, lastSavedAt: null, error: null };
  const report = buildReport(state, now, storage, spanFrom === null ? {} : { span: { from: spanFrom, to: now } });
  const inputsInfo: AnalysedInput[] = reader.inputs.map((stats, i) => ({ ...stats, unreadableSamples: [...stats.unreadableSamples], ...(perInput[i] as (typeof perInput)[number]) }));
  const requestsTotal = counter.requests;
  const withProtocolField = inputsInfo.reduce((sum, input) => sum + (input.hasProtocol ? input.requests : 0), 0);
  const withUserAgentField = inputsInfo.reduce((sum, input) => sum + (input.hasUserAgent ? input.requests : 0), 0);
  const census = counter.census.total === 0 ? null : censusWindows(counter, report);

  let imported: ImportResult | null = null;
  if (store) {
    try {
      imported = await importInto(store, state, salt, ledger, o.retentionDays, clock());
    } finally {
      await store.close().catch(() => undefined);
    }
    imported.skipped = perInput.reduce((sum, input) => sum + input.skipped, 0);
  }

  const info: AnalysisInfo = {
    from: from === null ? null : new Date(from).toISOString(),
    to: to === null ? null : new Date(to).toISOString(),
    inputs: inputsInfo,
    basis: basisOf(inputsInfo),
    requests: {
      total: requestsTotal,
      withProtocolField,
      withUserAgent: withUserAgentField,
      byLoggedProtocol: Object.fromEntries(SLOT_NAMES.map((name, slot) => [name, counter.byLogged[slot] as number])) as Record<LogProtocol | 'none', number>,
      beyondSpan: Math.max(0, totalRequests(state) - (report.span?.requests.total ?? 0)),
    },
    census,
    legacyClients: { browsers: counter.clients.top(['browser'], TOP_CLIENTS), others: counter.clients.top(['bot', 'library', 'unknown'], TOP_CLIENTS) },
    spanDays: o.spanDays,
    imported,
    classification: { ...counter.agents.stats },
    warnings,
  };
  return { state, report: { ...report, analysis: info } };
}

function censusWindows(counter: LogCounter, report: ReportDocument): AnalysisInfo['census'] {
  const window = (w: { from: string; to: string }) => counter.census.window(Date.parse(w.from), Date.parse(w.to) - 1);
  const windows = Object.fromEntries(WINDOWS.map((name) => [name, window(report.windows[name])])) as Record<WindowName, CensusWindow>;
  const span = report.span ? window(report.span) : window(report.windows['30d']);
  return { ...windows, span, total: counter.census.total };
}

function totalRequests(state: StatsState): number {
  let total = 0;
  for (const [key, n] of state.totals.requests) if (parseTotalsKey(key)) total += n;
  return total;
}

/**
 * What the inputs with requests could tell. A log without a protocol field (plain `combined`) is read by
 * user agent alone: TLS 1.0/1.1 clients with modern-looking user agents are not seen. One without user
 * agents (Apache's `ssl_request_log`) by protocol alone: bots are not told from people.
 */
function basisOf(inputs: readonly AnalysedInput[]): AnalysisBasis {
  const withRequests = inputs.filter((input) => input.requests > 0);
  if (withRequests.length === 0) return 'neither';
  const kinds = new Set(
    withRequests.map((input) => (input.hasProtocol && input.hasUserAgent ? 'protocol and user agent' : input.hasProtocol ? 'protocol alone' : input.hasUserAgent ? 'user agent alone' : 'neither')),
  );
  return kinds.size === 1 ? ([...kinds][0] as AnalysisBasis) : 'mixed';
}

/** Requests in hours older than the store will keep. */
function requestsBefore(state: StatsState, oldestHour: number): number {
  let total = 0;
  for (const [start, bucket] of state.hours) {
    if (start >= oldestHour) continue;
    for (const [key, n] of bucket.requests) if (parseRequestKey(key)) total += n;
  }
  return total;
}

/**
 * Hands a copy of the counts (and the import list) to the store and writes it. A copy: the store may
 * prune and merge into what it is given, and the report was built from the analysis' own state.
 */
async function importInto(store: StatsStore, state: StatsState, salt: Buffer, ledger: Ledger, retentionDays: number, now: number): Promise<ImportResult> {
  const copy = fromDocument(JSON.parse(JSON.stringify(toDocument(state, salt, now))) as unknown).state;
  copy.imports = ledger.entries();
  const requests = totalRequests(state);
  const beyondRetention = requestsBefore(state, hourStart(now) - retentionDays * DAY_MS);
  store.add(copy);
  await store.flush();
  const status = store.status();
  if (status.error !== null) throw new Error(`legacy-tls-fallback: could not write ${status.file ?? `the ${status.store} store`}: ${status.error}; nothing was imported.`);
  return { store: status.store, file: status.file, requests, beyondRetention, retentionDays, skipped: 0 };
}

// ---------------------------------------------------------------------------------------------------
// Which logs were counted already

interface InputEntry {
  index: number;
  id: string;
  input: string;
  /** Records of this input seen so far, and the time of the last one. */
  records: number;
  last: number;
  /** Records already counted, from the start. */
  skip: number;
  before: ImportRecord | null;
  mismatch: boolean;
}

/**
 * The logs counted before (in the store, from earlier imports; or earlier in this run), by the hash of
 * their first record. An input whose first record hashes the same is that log again, perhaps grown or
 * rotated: as many of its first records as were counted then are skipped. So importing a log twice, or
 * `access.log` today and `access.log.1` tomorrow, counts each line once.
 */
class Ledger {
  readonly #known: Map<string, ImportRecord>;
  readonly #added = new Map<string, ImportRecord>();
  readonly #now: number;
  readonly #hash = new SipHash24(FINGERPRINT_KEY);
  readonly mismatches = new Map<number, ImportRecord>();

  constructor(known: Map<string, ImportRecord>, now: number) {
    this.#known = known;
    this.#now = now;
  }

  start(index: number, stats: LogInputStats, first: LogRecord): InputEntry {
    const id = this.#fingerprint(stats.format, first);
    const before = this.#added.get(id) ?? this.#known.get(id) ?? null;
    return { index, id, input: printable(stats.input, 200), records: 0, last: first.time, skip: before?.records ?? 0, before, mismatch: false };
  }

  finish(entry: InputEntry): void {
    if (entry.mismatch && entry.before) this.mismatches.set(entry.index, entry.before);
    const previous = this.#added.get(entry.id) ?? this.#known.get(entry.id);
    // A shorter copy of a log counted further before changes nothing.
    if (previous && previous.records >= entry.records) return;
    this.#added.set(entry.id, { id: entry.id, input: entry.input, records: entry.records, last: entry.last, at: this.#now });
  }

  /** The imports made in this run, for the store. */
  entries(): Map<string, ImportRecord> {
    return new Map(this.#added);
  }

  #fingerprint(format: LogFormatName | null, record: LogRecord): string {
    const parts = [format ?? '', record.kind, String(record.time), record.protocol ?? '', record.address ?? '', record.host ?? '', record.path ?? '', String(record.status ?? ''), record.userAgent ?? '', record.failureReason ?? ''];
    return Buffer.from(this.#hash.hashStrings(...parts.map((part) => part.slice(0, 512)))).toString('hex');
  }
}
