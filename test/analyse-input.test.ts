/**
 * The reader's inputs as they come in practice and as an attacker would make them: gzip (told by its
 * bytes), concatenated gzip members, several files, stdin, truncated and overlong lines, binary garbage,
 * CRLF, empty files, a byte order mark, syslog prefixes; and the errors that must stop a run early.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { LogFormatError, LogReadError, MAX_LINE_LENGTH, readLogRecords } from '../src/analyse/index.js';
import { logFile, readAll, scratch } from './helpers/analyse.js';
import { hasTool } from './helpers/tools.js';

const IE8 = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

/** A line in nginx's combined + "$ssl_protocol" "$ssl_cipher" layout. */
function line(n: number, protocol = 'TLSv1.2', agent = CHROME): string {
  const second = String(n % 60).padStart(2, '0');
  return `192.0.2.${n % 250} - - [01/Mar/2024:09:00:${second} +0000] "GET /p/${n}?q=1 HTTP/1.1" 200 512 "-" "${agent}" "${protocol}" "ECDHE-RSA-AES128-GCM-SHA256"`;
}

function lines(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => line(from + i, i % 5 === 0 ? 'TLSv1' : 'TLSv1.2', i % 5 === 0 ? IE8 : CHROME));
}

const text = (list: readonly string[]) => `${list.join('\n')}\n`;

describe('compressed and several inputs', () => {
  it('reads gzip by its magic bytes, whatever the file is called', async () => {
    const content = text(lines(50));
    const plain = await readAll([await logFile(content)]);
    const gzipped = await readAll([await logFile(gzipSync(content), 'access.log')]);
    expect(gzipped.stats).toMatchObject({ compressed: true, records: 50, unreadable: 0 });
    expect(gzipped.records).toEqual(plain.records);
    const named = await readAll([await logFile(content, 'not-really.gz')]);
    expect(named.stats).toMatchObject({ compressed: false, records: 50 });
  });

  it('reads concatenated gzip members (cat a.gz b.gz) as one stream', async () => {
    const file = await logFile(Buffer.concat([gzipSync(text(lines(10))), gzipSync(text(lines(15, 10)))]));
    const { records, stats } = await readAll([file]);
    expect(stats).toMatchObject({ records: 25, unreadable: 0, error: null });
    expect(records.map((r) => r.path)).toEqual(Array.from({ length: 25 }, (_, i) => `/p/${i}`));
  });

  it('reads a gzip cut short up to where it ends, and says so', async () => {
    const whole = gzipSync(text(lines(2000)));
    const { stats } = await readAll([await logFile(whole.subarray(0, Math.floor(whole.length * 0.6)))]);
    expect(stats.error).toMatch(/gzip data is damaged or cut short/);
    expect(stats.records).toBeGreaterThan(100);
    expect(stats.records).toBeLessThan(2000);
    expect(stats.unreadable).toBeLessThanOrEqual(1);
  });

  it('reads several files in order, each with its own counters and its own format', async () => {
    const first = await logFile(text(lines(3)));
    const second = await logFile(gzipSync(text(lines(2, 3))));
    const third = await logFile(`${JSON.stringify({ EdgeStartTimestamp: 1709283600, ClientSSLProtocol: 'TLSv1', ClientRequestUserAgent: IE8 })}\n`);
    const { records, inputs } = await readAll([first, second, third]);
    expect(records.map((r) => r.path)).toEqual(['/p/0', '/p/1', '/p/2', '/p/3', '/p/4', null]);
    expect(inputs.map((s) => [s.input, s.format, s.records, s.compressed])).toEqual([
      [first, 'nginx', 3, false],
      [second, 'nginx', 2, true],
      [third, 'cloudflare', 1, false],
    ]);
  });

  it('reads `-` from stdin, chunks cut anywhere (inside a line, inside a UTF-8 character)', async () => {
    const agent = 'Mozilla/5.0 (compatible; Bot/1.0; café ☕)';
    const content = Buffer.from(text([...lines(20), line(20, 'TLSv1.3', agent)]));
    const chunks: Buffer[] = [];
    for (let at = 0; at < content.length; at += 7) chunks.push(content.subarray(at, at + 7));
    const { records, stats } = await readAll(['-'], { stdin: Readable.from(chunks) });
    expect(stats).toMatchObject({ input: '-', records: 21, unreadable: 0, bytesTotal: null, bytesRead: content.length });
    expect(records[20]?.userAgent).toBe(agent);
  });

  it('reads gzip from stdin too, and a file and stdin in one run', async () => {
    const file = await logFile(text(lines(2)));
    const { inputs } = await readAll([file, '-'], { stdin: Readable.from([gzipSync(text(lines(4)))]) });
    expect(inputs.map((s) => [s.records, s.compressed])).toEqual([
      [2, false],
      [4, true],
    ]);
  });

  it.runIf(hasTool('mkfifo'))('reads a named pipe (`<(zcat …)`) once: its format is told while reading it', async () => {
    const fifo = path.join(await scratch(), 'pipe.log');
    execFileSync('mkfifo', [fifo]);
    const writing = writeFile(fifo, gzipSync(text(lines(30))));
    const { stats } = await readAll([fifo]);
    await writing;
    expect(stats).toMatchObject({ records: 30, unreadable: 0, compressed: true, bytesTotal: null, format: 'nginx', formatSource: 'detected' });
  });

  it('hands out batches, and progress reaches the total', async () => {
    const content = text(lines(12_000));
    const file = await logFile(content);
    const reader = readLogRecords([file]);
    let batches = 0;
    let seen = 0;
    for await (const batch of reader) {
      batches++;
      seen += batch.length;
      const progress = reader.progress();
      expect(progress.records).toBe(seen);
      expect(progress.bytesRead).toBeLessThanOrEqual(Buffer.byteLength(content));
    }
    expect(batches).toBeGreaterThan(1);
    expect(reader.progress()).toEqual({ bytesRead: Buffer.byteLength(content), bytesTotal: Buffer.byteLength(content), lines: 12_000, records: 12_000, unreadable: 0 });
  });
});

describe('lines as they really end', () => {
  it('reads a last line without its newline', async () => {
    const { stats } = await readAll([await logFile(lines(3).join('\n'))]);
    expect(stats).toMatchObject({ lines: 3, records: 3, unreadable: 0 });
  });

  it('counts a truncated last line as unreadable, with its number, and reads the rest', async () => {
    const cut = line(3).slice(0, 80);
    const { stats } = await readAll([await logFile(`${text(lines(3))}${cut}`)]);
    expect(stats).toMatchObject({ lines: 4, records: 3, unreadable: 1 });
    expect(stats.unreadableSamples).toEqual([{ input: stats.input, line: 4, reason: expect.any(String), text: cut }]);
  });

  it('reads CRLF line ends as LF', async () => {
    const lf = await readAll([await logFile(text(lines(10)))]);
    const crlf = await readAll([await logFile(lines(10).join('\r\n') + '\r\n')]);
    expect(crlf.records).toEqual(lf.records);
    expect(crlf.stats.unreadable).toBe(0);
  });

  it('reads a 64 KB line: a long user agent is data, not an attack', async () => {
    const agent = `Mozilla/5.0 (${'x'.repeat(64 * 1024)})`;
    const { records, stats } = await readAll([await logFile(text([line(0), line(1, 'TLSv1', agent), line(2)]))]);
    expect(stats).toMatchObject({ records: 3, unreadable: 0 });
    expect(records[1]?.userAgent).toBe(agent);
  });

  it('skips a line longer than the limit without holding it, and counts it once', async () => {
    const huge = line(1, 'TLSv1', 'x'.repeat(MAX_LINE_LENGTH + 10));
    const { stats, records } = await readAll([await logFile(text([line(0), huge, line(2)]))]);
    expect(stats).toMatchObject({ lines: 3, records: 2, unreadable: 1 });
    expect(stats.unreadableSamples[0]).toMatchObject({ line: 2, reason: `longer than ${MAX_LINE_LENGTH / 1024} KiB` });
    expect(records.map((r) => r.path)).toEqual(['/p/0', '/p/2']);
  });

  it('numbers an overlong first line right, then detects the format from the lines after it (stdin)', async () => {
    const content = Buffer.from(`\n${'y'.repeat(MAX_LINE_LENGTH + 1)}\n${text(lines(4))}`);
    const { stats } = await readAll(['-'], { stdin: Readable.from([content.subarray(0, 1000), content.subarray(1000)]) });
    expect(stats).toMatchObject({ lines: 6, ignored: 1, records: 4, unreadable: 1, format: 'nginx' });
    expect(stats.unreadableSamples[0]?.line).toBe(2);
  });

  it('survives 20 MB without a newline from stdin (memory stays at one line)', async () => {
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from(text(lines(2)));
      const block = Buffer.alloc(1 << 20, 0x61);
      for (let i = 0; i < 20; i++) yield block;
    }
    const { stats } = await readAll(['-'], { format: 'nginx', stdin: Readable.from(endless()) });
    expect(stats).toMatchObject({ lines: 3, records: 2, unreadable: 1 });
  });

  it('reads an empty file: no record, no error', async () => {
    const { stats, records } = await readAll([await logFile('')]);
    expect(records).toEqual([]);
    expect(stats).toMatchObject({ lines: 0, records: 0, unreadable: 0, format: null, error: null });
  });

  it('reads a file of blank lines: nothing to detect, nothing unreadable', async () => {
    const { stats } = await readAll([await logFile('\n\n\r\n\n')]);
    expect(stats).toMatchObject({ lines: 4, ignored: 4, records: 0, unreadable: 0 });
  });

  it('skips a UTF-8 byte order mark at the start', async () => {
    const { stats } = await readAll([await logFile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text(lines(3)))]))]);
    expect(stats).toMatchObject({ records: 3, unreadable: 0, format: 'nginx' });
  });

  it('counts binary garbage as unreadable lines, keeps reading, and shows it escaped', async () => {
    let seed = 7;
    const garbage = Buffer.alloc(20_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    garbage[100] = 0x1b; // an escape sequence for the terminal, at least one
    const file = await logFile(Buffer.concat([Buffer.from(text(lines(60))), garbage, Buffer.from('\n'), Buffer.from(text(lines(5, 60)))]));
    const { stats, records } = await readAll([file]);
    expect(records).toHaveLength(65);
    expect(stats.unreadable).toBeGreaterThan(0);
    expect(stats.unreadableSamples.length).toBeLessThanOrEqual(5);
    for (const sample of stats.unreadableSamples) {
      // eslint-disable-next-line no-control-regex
      expect(sample.text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(sample.text.length).toBeLessThanOrEqual(161);
    }
  });

  it('keeps at most the asked number of examples, and counts every unreadable line', async () => {
    const { stats } = await readAll([await logFile(text([...lines(60), ...Array.from({ length: 40 }, (_, i) => `junk ${i}`)]))], { unreadableSamples: 2 });
    expect(stats.unreadable).toBe(40);
    expect(stats.unreadableSamples.map((s) => s.line)).toEqual([61, 62]);
  });

  it('reads nginx lines shipped through syslog, prefix and all', async () => {
    const prefixed = lines(10).map((l) => `Mar  1 09:00:00 web1 nginx: ${l}`);
    const { stats, records } = await readAll([await logFile(text(prefixed))]);
    expect(stats).toMatchObject({ format: 'nginx', records: 10, unreadable: 0 });
    expect(stats.layout).toMatch(/via syslog$/);
    expect(records[0]?.protocol).toBe('TLSv1');
  });
});

describe('what stops a run before its first record', () => {
  it('a missing file, even after one that exists', async () => {
    const good = await logFile(text(lines(2)));
    const missing = path.join(await scratch(), 'nope.log');
    const reader = readLogRecords([good, missing]);
    const records: unknown[] = [];
    const error = await (async () => {
      for await (const batch of reader) records.push(...batch);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogReadError);
    expect(error).toMatchObject({ code: 'ERR_LEGACY_TLS_LOG_INPUT', input: missing, message: expect.stringContaining(`cannot read ${missing}: no such file`) });
    expect(records).toEqual([]);
  });

  it('a directory', async () => {
    const dir = path.join(await scratch(), 'a-directory');
    await mkdir(dir, { recursive: true });
    await expect(readAll([dir])).rejects.toMatchObject({ code: 'ERR_LEGACY_TLS_LOG_INPUT', message: expect.stringContaining('it is a directory') });
  });

  it('a log no format reads, naming what was tried and how to say it', async () => {
    const file = await logFile(text(['hello \u001b[2J world', 'second line', 'third']));
    const error = await readAll([file]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogFormatError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot tell the format of ${file}`);
    expect(message).toContain('"hello \\x1b[2J world"');
    expect(message).toMatch(/Tried: caddy; traefik; cloudflare; cloudfront\/iis; alb; nginx-error; haproxy \(httpslog, httplog\); nginx\/apache \(combined-tls-cipher/);
    expect(message).toContain('log_format / LogFormat / log-format');
    expect((error as LogFormatError).candidates.length).toBeGreaterThan(5);
  });

  it('a given format that the first lines do not fit', async () => {
    const file = await logFile(text(lines(5)));
    await expect(readAll([file], { format: 'caddy' })).resolves.toMatchObject({ stats: { records: 0, unreadable: 5 } });
    await expect(readAll([file], { format: 'haproxy' })).rejects.toThrow(/Tried: haproxy \(httpslog, httplog\)/);
  });

  it('a LogReader is read once', async () => {
    const reader = readLogRecords([await logFile(text(lines(1)))]);
    for await (const _ of reader) void _;
    expect(() => reader[Symbol.asyncIterator]()).toThrow(/iterated once/);
  });
});

describe('options, checked when the reader is made', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['no inputs', () => readLogRecords([]), /`inputs` is \[\]; expected a list of file paths/],
    ['stdin twice', () => readLogRecords(['-', '-']), /at most once/],
    ['an unknown format', () => readLogRecords(['x'], { format: 'nginx-access' as never }), /`format` is "nginx-access"; expected one of 'nginx', 'apache'/],
    ['a typo in an option name', () => readLogRecords(['x'], { fromat: 'nginx' } as never), /`fromat` is not an option here; did you mean `format`\?/],
    ['a format string for a format that takes none', () => readLogRecords(['x'], { format: 'caddy', logFormat: 'combined' }), /only nginx, apache, nginx-stream, haproxy take one/],
    ['a format string without a time', () => readLogRecords(['x'], { format: 'nginx', logFormat: '$remote_addr "$http_user_agent"' }), /expected a time field \(\$time_local/],
    ['two variables with nothing between them', () => readLogRecords(['x'], { format: 'nginx', logFormat: '[$time_local] $ssl_protocol$ssl_cipher' }), /between \$ssl_protocol and \$ssl_cipher/],
    ['an unclosed quote', () => readLogRecords(['x'], { format: 'nginx', logFormat: "log_format x '$time_local" }), /expected a closing '/],
    ['an Apache time it cannot read', () => readLogRecords(['x'], { format: 'apache', logFormat: '%{%H:%M}t %h' }), /%\{%H:%M\}t/],
    ['a HAProxy format without a time', () => readLogRecords(['x'], { format: 'haproxy', logFormat: '%ci %sslv' }), /expected a time field \(%tr/],
    ['an empty format string', () => readLogRecords(['x'], { logFormat: '  ' }), /`logFormat` is " {2}"/],
    ['a format string of 10 000 characters', () => readLogRecords(['x'], { format: 'nginx', logFormat: `$time_local ${'x'.repeat(10_000)}` }), /at most 4096 characters/],
    ['a stdin that is no stream', () => readLogRecords(['-'], { stdin: 'data' as never }), /`stdin` is "data"; expected a readable stream/],
    ['a negative number of examples', () => readLogRecords(['x'], { unreadableSamples: -1 }), /`unreadableSamples` is -1; expected a whole number from 0 to 1000/],
  ];

  it.each(cases)('refuses %s, naming the option, the value and the fix', (_, make, message) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(message);
  });

  it('takes a built-in layout by its name', async () => {
    const file = await logFile(text(lines(3)));
    const { stats } = await readAll([file], { format: 'nginx', logFormat: 'combined-tls-cipher' });
    expect(stats).toMatchObject({ formatSource: 'given', records: 3, layout: 'combined + "$ssl_protocol" "$ssl_cipher"' });
  });
});
