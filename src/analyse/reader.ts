/**
 * `readLogRecords(inputs, options)`: the streaming reader under `analyse`. Inputs are read in order,
 * each as a stream (plain or gzip, told by its magic bytes), split into lines without ever holding more
 * than one chunk and one line, parsed by the input's format, and handed out as batches of records.
 *
 * Before anything is yielded, every file input is opened, sized and (when no format is given) its
 * format detected from its first lines: a run over many files fails at once on the one it cannot read,
 * not an hour in. Lines that cannot be read are counted, a few kept as examples, and never stop the run.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { InvalidOptionError } from '../errors.js';
import { assertKnownKeys, assertPlainObject, oneOf } from '../schema/checks.js';
import { LogReadError, printable } from './errors.js';
import { candidatesFor, type Candidate, detect, type Detection } from './formats.js';
import { stripSyslogPrefix } from './haproxy.js';
import type { LineParser } from './parser.js';
import { LOG_FORMAT_NAMES, type LogFormatName, type LogInputStats, type LogRecord, type ReadLogOptions } from './types.js';

/** Longer lines (in bytes) are skipped and counted unreadable without being held: 64 KiB URLs and user agents still fit. */
export const MAX_LINE_LENGTH = 256 * 1024;

/** Buffer's own decoders (what toString calls after checking its arguments), present since Node 0.x. */
interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
/** Lines of an input looked at to tell its format, at most, and the bytes they may span. */
const SAMPLE_LINES = 50;
const SAMPLE_BYTES = 256 * 1024;
const READ_CHUNK = 1024 * 1024;
const GUNZIP_CHUNK = 256 * 1024;
const MAX_INPUTS = 1_000_000;
const SAMPLE_TEXT_LENGTH = 160;

const EMPTY: AsyncIterable<Buffer> = { async *[Symbol.asyncIterator]() {} };

const KNOWN_OPTIONS = ['format', 'logFormat', 'stdin', 'unreadableSamples'] as const;

interface Resolved {
  inputs: string[];
  format: LogFormatName | undefined;
  candidates: Candidate[];
  stdin: AsyncIterable<Buffer | string>;
  unreadableSamples: number;
}

/** Everything the options say, checked once, before any input is touched. Throws InvalidOptionError. */
function resolve(inputs: unknown, options: unknown): Resolved {
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_INPUTS || inputs.some((input) => typeof input !== 'string' || input === '')) {
    throw new InvalidOptionError('inputs', inputs, "expected a list of file paths, `-` for standard input, e.g. ['access.log', 'access.log.1.gz']");
  }
  if (inputs.filter((input) => input === '-').length > 1) {
    throw new InvalidOptionError('inputs', inputs, 'expected `-` (standard input) at most once: it can be read only once');
  }
  assertPlainObject(options, 'options');
  assertKnownKeys(options, KNOWN_OPTIONS, '');
  const format = options.format === undefined ? undefined : oneOf(options.format, LOG_FORMAT_NAMES, 'format');
  const logFormat = options.logFormat;
  if (logFormat !== undefined && (typeof logFormat !== 'string' || logFormat.trim() === '')) {
    throw new InvalidOptionError('logFormat', logFormat, "expected the log format string, e.g. '$remote_addr - $remote_user [$time_local] \"$request\" …', or a built-in name such as 'combined'");
  }
  // process.stdin is touched only when `-` is an input: creating it can hold a terminal open.
  const stdin = options.stdin ?? (inputs.includes('-') ? process.stdin : EMPTY);
  if (stdin === null || typeof stdin !== 'object' || typeof (stdin as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    throw new InvalidOptionError('stdin', options.stdin, 'expected a readable stream (anything async-iterable of Buffers or strings)');
  }
  const samples = options.unreadableSamples ?? 5;
  if (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 0 || samples > 1000) {
    throw new InvalidOptionError('unreadableSamples', samples, 'expected a whole number from 0 to 1000');
  }
  return {
    inputs: inputs as string[],
    format,
    candidates: candidatesFor(format, logFormat as string | undefined),
    stdin: stdin as AsyncIterable<Buffer | string>,
    unreadableSamples: samples,
  };
}

export interface LogProgress {
  /** Bytes read from every input so far (compressed bytes for gzip). */
  bytesRead: number;
  /** Sum of the inputs' sizes; `null` while an input of unknown size (stdin, a pipe) is part of the run. */
  bytesTotal: number | null;
  lines: number;
  records: number;
  unreadable: number;
}

/** Streams the records of `inputs` (paths, `-` for stdin) in batches. Options are validated here, synchronously. */
export function readLogRecords(inputs: readonly string[], options: ReadLogOptions = {}): LogReader {
  return new LogReader(resolve(inputs, options));
}

export class LogReader implements AsyncIterable<LogRecord[]> {
  /** One entry per input, in order, updated while it is read. */
  readonly inputs: readonly LogInputStats[];
  readonly #options: Resolved;
  #started = false;
  #current = -1;

  /**
   * Index (in `inputs`) of the input being read: every batch comes from one input, and while the
   * consumer holds a batch this is that batch's input. -1 before the first.
   */
  get currentInput(): number {
    return this.#current;
  }

  constructor(options: Resolved) {
    this.#options = options;
    this.inputs = options.inputs.map((input) => ({
      input,
      format: null,
      layout: null,
      formatSource: null,
      compressed: false,
      bytesTotal: null,
      bytesRead: 0,
      lines: 0,
      records: 0,
      ignored: 0,
      unreadable: 0,
      unreadableSamples: [],
      hasProtocol: false,
      hasUserAgent: false,
      error: null,
    }));
  }

  /** Totals so far; cheap enough to call for every progress-bar refresh. */
  progress(): LogProgress {
    let bytesRead = 0;
    let bytesTotal: number | null = 0;
    let lines = 0;
    let records = 0;
    let unreadable = 0;
    for (const stats of this.inputs) {
      bytesRead += stats.bytesRead;
      bytesTotal = bytesTotal === null || stats.bytesTotal === null ? null : bytesTotal + stats.bytesTotal;
      lines += stats.lines;
      records += stats.records;
      unreadable += stats.unreadable;
    }
    return { bytesRead, bytesTotal, lines, records, unreadable };
  }

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    if (this.#started) throw new Error('legacy-tls-fallback: a LogReader can be iterated once; call readLogRecords again to re-read');
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<LogRecord[]> {
    const detections = await this.#prepare();
    for (let index = 0; index < this.inputs.length; index++) {
      this.#current = index;
      yield* this.#readInput(this.inputs[index] as LogInputStats, detections[index] ?? null);
    }
  }

  /** Sizes every file and, without a given format, detects each file's format: fails before the first record. */
  async #prepare(): Promise<(Detection | null)[]> {
    const detections: (Detection | null)[] = [];
    for (const stats of this.inputs) {
      if (stats.input === '-') {
        detections.push(null);
        continue;
      }
      let regular: boolean;
      try {
        const info = await stat(stats.input);
        if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        regular = info.isFile();
        stats.bytesTotal = regular ? info.size : null;
      } catch (error) {
        throw inputError(stats.input, error);
      }
      // A pipe (`<(zcat …)`, a FIFO) can be read once: its format is told while it is read, as stdin's is.
      detections.push(regular && this.#options.candidates.length > 1 ? await this.#sniff(stats) : null);
    }
    return detections;
  }

  async #sniff(stats: LogInputStats): Promise<Detection | null> {
    const stream = createReadStream(stats.input, { highWaterMark: 64 * 1024 });
    const decoder = new StringDecoder('utf8');
    let text = '';
    try {
      for await (const chunk of decompress(stream, () => undefined, () => undefined)) {
        text += decoder.write(chunk);
        if (countLines(text) >= SAMPLE_LINES || text.length >= SAMPLE_BYTES) break;
      }
    } catch (error) {
      // A damaged gzip is reported when the input is read for real; detection uses what came out of it.
      if (!isGzipError(error)) throw inputError(stats.input, error);
    } finally {
      stream.destroy();
    }
    const lines = sampleOf(text);
    // An empty file (or one of blank lines) has no format to tell and nothing to read.
    if (!lines.some((line) => line.trim() !== '')) return null;
    return detect(lines, this.#options.candidates, stats.input);
  }

  async *#readInput(stats: LogInputStats, sniffed: Detection | null): AsyncGenerator<LogRecord[]> {
    const isStdin = stats.input === '-';
    const file = isStdin ? null : createReadStream(stats.input, { highWaterMark: READ_CHUNK });
    const source: AsyncIterable<Buffer | string> = file ?? this.#options.stdin;
    const input = new InputLines(stats, this.#options, sniffed);
    try {
      const chunks = decompress(
        source,
        (bytes) => {
          if (isStdin) stats.bytesRead += bytes;
        },
        () => {
          stats.compressed = true;
        },
      );
      try {
        for await (const chunk of chunks) {
          if (file) stats.bytesRead = file.bytesRead;
          input.push(chunk);
          const batch = input.take();
          if (batch.length > 0) yield batch;
        }
      } catch (error) {
        if (error instanceof LogReadError) throw error;
        stats.error = isGzipError(error)
          ? `the gzip data is damaged or cut short (${(error as Error).message}); what came before was read`
          : `reading stopped: ${(error as Error).message}`;
      }
      input.end();
      if (file) stats.bytesRead = file.bytesRead;
      const batch = input.take();
      if (batch.length > 0) yield batch;
    } finally {
      file?.destroy();
    }
  }
}

/** Splits one input's text into lines and feeds its parser; holds the records of the current chunk. */
class InputLines {
  readonly #stats: LogInputStats;
  readonly #options: Resolved;
  #parser: LineParser | null = null;
  #syslog = false;
  #detection: Detection | null;
  /** The bytes of a line whose end has not come yet (a copy: the chunk it came from is not kept). */
  #carry: Buffer | null = null;
  /** In the middle of a line too long to keep: its bytes are dropped up to the next newline. */
  #skipping = false;
  /** Lines held back until the format is known (and HAProxy has learnt its captures). */
  #pending: string[] | null = [];
  #pendingBytes = 0;
  #batch: LogRecord[] = [];
  #first = true;

  constructor(stats: LogInputStats, options: Resolved, detection: Detection | null) {
    this.#stats = stats;
    this.#options = options;
    this.#detection = detection;
  }

  /**
   * Lines are cut from the bytes and each decoded on its own, so every line is a string of its own:
   * values sliced from it keep at most their line alive, never the chunk. A chunk that is all ASCII
   * (nginx and Apache escape everything else) is decoded as Latin-1, the cheapest decoding there is.
   */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.#first) {
      this.#first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) start = 3;
    }
    if (this.#skipping || this.#carry !== null) {
      const newline = chunk.indexOf(10, start);
      if (this.#skipping) {
        if (newline === -1) return;
        this.#skipping = false;
        this.#stats.lines++;
      } else {
        const carry = this.#carry as Buffer;
        if (newline === -1) {
          if (carry.length + chunk.length - start > MAX_LINE_LENGTH) this.#overlong(carry);
          else this.#carry = Buffer.concat([carry, chunk.subarray(start)]);
          return;
        }
        this.#carry = null;
        const line = Buffer.concat([carry, chunk.subarray(start, newline)]);
        this.#emit(line, 0, line.length, isAscii(line));
      }
      start = newline + 1;
    }
    const ascii = isAscii(chunk);
    let newline = chunk.indexOf(10, start);
    while (newline !== -1) {
      this.#emit(chunk, start, newline, ascii);
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    const rest = chunk.length - start;
    if (rest > MAX_LINE_LENGTH) this.#overlong(chunk.subarray(start));
    else if (rest > 0) this.#carry = Buffer.from(chunk.subarray(start));
  }

  #emit(bytes: Buffer, start: number, end: number, ascii: boolean): void {
    if (end - start > MAX_LINE_LENGTH) {
      this.#overlong(bytes.subarray(start, end));
      this.#skipping = false;
      this.#stats.lines++;
      return;
    }
    const stop = end > start && bytes[end - 1] === 13 ? end - 1 : end;
    const fast = bytes as Buffer & FastSlices;
    this.#line(ascii ? fast.latin1Slice(start, stop) : fast.utf8Slice(start, stop));
  }

  end(): void {
    if (this.#skipping) {
      this.#skipping = false;
      this.#stats.lines++;
    } else if (this.#carry !== null) {
      // A last line without its newline: read like any other (if it was cut short, it will not parse).
      const carry = this.#carry;
      this.#carry = null;
      this.#emit(carry, 0, carry.length, isAscii(carry));
    }
    if (this.#pending !== null) this.#settle();
  }

  take(): LogRecord[] {
    // JSON formats learn from the lines whether they carry a field: keep the stats current.
    this.#refreshFields();
    const batch = this.#batch;
    if (batch.length > 0) this.#batch = [];
    return batch;
  }

  #overlong(head: Buffer): void {
    // Lines held for detection are not numbered yet: read them first, so this one gets its number.
    if (this.#pending !== null) this.#settle();
    this.#carry = null;
    this.#skipping = true;
    this.#unreadable(this.#stats.lines + 1, `longer than ${MAX_LINE_LENGTH / 1024} KiB`, head.subarray(0, SAMPLE_TEXT_LENGTH * 4).toString('utf8'));
  }

  #line(line: string): void {
    if (this.#pending !== null) {
      this.#pending.push(line);
      this.#pendingBytes += line.length;
      if (this.#pending.length >= SAMPLE_LINES || this.#pendingBytes >= SAMPLE_BYTES) this.#settle();
      return;
    }
    this.#parse(line);
  }

  #parse(line: string): void {
    const stats = this.#stats;
    const number = ++stats.lines;
    if (line.length === 0) {
      stats.ignored++;
      return;
    }
    const parser = this.#parser as LineParser;
    const result = parser.parse(this.#syslog ? (stripSyslogPrefix(line) ?? line) : line);
    if (result === null) {
      stats.ignored++;
    } else if (typeof result === 'object') {
      stats.records++;
      this.#batch.push(result);
    } else {
      this.#unreadable(number, result, line);
    }
  }

  #unreadable(line: number, reason: string, text: string): void {
    const stats = this.#stats;
    stats.unreadable++;
    if (stats.unreadableSamples.length < this.#options.unreadableSamples) {
      stats.unreadableSamples.push({ input: stats.input, line, reason, text: printable(text, SAMPLE_TEXT_LENGTH) });
    }
  }

  /** The first lines are in: choose the parser, let it learn from them, then read them. */
  #settle(): void {
    const pending = this.#pending ?? [];
    this.#pending = null;
    const stats = this.#stats;
    const candidates = this.#options.candidates;
    let detection = this.#detection;
    const nonBlank = pending.some((line) => line.trim() !== '');
    if (detection === null) {
      if (candidates.length === 1) detection = { candidate: candidates[0] as Candidate, syslog: false };
      else if (nonBlank) detection = detect(pending, candidates, stats.input);
    }
    if (detection === null) {
      // Nothing but blank lines so far, and no format given: count them, and tell the format by the
      // first lines that are not blank.
      for (const _ of pending) {
        stats.lines++;
        stats.ignored++;
      }
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    if (detection.syslog === false && candidates.length === 1 && nonBlank) {
      // A given format still has to cope with a syslog prefix.
      const stripped = pending.filter((line) => line.trim() !== '').map((line) => stripSyslogPrefix(line));
      const parser = detection.candidate.create();
      const direct = pending.filter((line) => line.trim() !== '' && typeof parser.parse(line) === 'object').length;
      if (direct === 0 && stripped.every((line) => line !== null)) detection = { ...detection, syslog: true };
    }
    this.#syslog = detection.syslog;
    const parser = detection.candidate.create();
    const sample = this.#syslog ? pending.map((line) => stripSyslogPrefix(line) ?? line) : pending;
    parser.learn?.(sample);
    this.#parser = parser;
    for (const line of pending) this.#parse(line);
    stats.format = parser.family;
    stats.layout = this.#syslog ? `${parser.layout}, via syslog` : parser.layout;
    stats.formatSource = this.#options.format !== undefined || candidates.length === 1 ? 'given' : 'detected';
    this.#refreshFields();
  }

  #refreshFields(): void {
    const parser = this.#parser;
    if (parser === null) return;
    this.#stats.hasProtocol = parser.hasProtocol;
    this.#stats.hasUserAgent = parser.hasUserAgent;
    this.#stats.format = parser.family;
  }
}

/**
 * Raw chunks in, decompressed chunks out: gzip is told by its magic bytes (1f 8b), not by the file name,
 * and concatenated gzip members are read one after the other, as gunzip reads them.
 */
async function* decompress(source: AsyncIterable<Buffer | string>, onRawBytes: (bytes: number) => void, onGzip: () => void): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | null> => {
    const result = await iterator.next();
    if (result.done) return null;
    const chunk = typeof result.value === 'string' ? Buffer.from(result.value) : result.value;
    onRawBytes(chunk.length);
    return chunk;
  };
  try {
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const chunk = await next();
      if (chunk === null) break;
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    }
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      onGzip();
      const rest = async function* (): AsyncGenerator<Buffer> {
        yield head;
        for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
      };
      const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
      pipeline(Readable.from(rest()), gunzip, () => undefined);
      yield* gunzip as AsyncIterable<Buffer>;
      return;
    }
    if (head.length > 0) yield head;
    for (let chunk = await next(); chunk !== null; chunk = await next()) yield chunk;
  } finally {
    await iterator.return?.();
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

function sampleOf(text: string): string[] {
  const lines = text.split('\n').slice(0, SAMPLE_LINES);
  // The last piece may be a line cut by the sample's end; the first may start with a byte order mark.
  if (lines.length > 1 && !text.endsWith('\n')) lines.pop();
  if (lines[0]?.charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

function isGzipError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function inputError(input: string, error: unknown): LogReadError {
  const code = (error as { code?: unknown } | null)?.code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
  return new LogReadError('ERR_LEGACY_TLS_LOG_INPUT', input, `legacy-tls-fallback: cannot read ${input}: ${why}`, { cause: error });
}
