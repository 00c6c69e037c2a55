/**
 * `legacy-tls-fallback analyse` end to end, through runCli, on logs written by a real nginx: its access
 * log (combined + "$ssl_protocol" "$ssl_cipher", plain combined, and a layout without user agents), its
 * error log (refused handshakes) and its stream log ($ssl_preread_protocol), after curl and openssl
 * clients at TLS 1.0 to 1.3 with real user agents. The counts in --json must be exactly what was sent;
 * the --html file, opened from disk in Chromium, must show the same figures; damaged inputs are counted
 * and shown, never stop the run; --into merges into a stats file a live TrafficStats then reads, once,
 * and is refused while a live process holds the file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { chromium } from 'playwright-core';
import type { AnalysisDocument } from '../src/analyse/analyse.js';
import { classifyClient } from '../src/classify/classify.js';
import { buildPolicy } from '../src/classify/policy.js';
import { runCli, type CliIo } from '../src/cli/main.js';
import { buildReport } from '../src/report/document.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import type { TlsProtocol } from '../src/types.js';
import { curl, freePort, inBatches, nginxStreamModule, opensslClient, PROTOCOL_OF, startServer, USER_AGENTS, VERSIONS, workspace, type RunningServer, type Workspace } from './helpers/log-servers.js';
import { hasTool } from './helpers/tools.js';

const isRoot = process.getuid?.() === 0;
const PATHS = ['/a?x=1', '/b'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function analyse(args: string[], options: { cwd?: string; stdin?: AsyncIterable<Buffer>; tty?: boolean } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s) => void (stdout += s), isTTY: false },
    stderr: { write: (s) => void (stderr += s), isTTY: options.tty === true },
    env: {},
    cwd: options.cwd ?? os.tmpdir(),
    onSignal: () => () => undefined,
    ...(options.stdin && { stdin: options.stdin }),
  };
  const code = await runCli(['analyse', ...args], io);
  return { code, stdout, stderr };
}

async function analyseJson(args: string[], options: Parameters<typeof analyse>[1] = {}): Promise<AnalysisDocument> {
  const run = await analyse([...args, '--json'], options);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as AnalysisDocument;
}

/** What the live middleware would count for what was sent: the classification is the live path's own. */
function expectedOf(sent: Map<string, number>) {
  const policy = buildPolicy({});
  const byProtocol: Record<string, number> = { TLSv1: 0, 'TLSv1.1': 0, 'TLSv1.2': 0, 'TLSv1.3': 0, none: 0 };
  const byKind: Record<string, number> = { browser: 0, bot: 0, library: 0, unknown: 0 };
  let legacy = 0;
  let legacyBrowsers = 0;
  let browsers = 0;
  for (const [key, count] of sent) {
    const [protocol, userAgent] = key.split(' | ') as [TlsProtocol, string];
    const verdict = classifyClient({ protocol, cipher: null, servername: null, source: 'log' }, userAgent, policy);
    byProtocol[protocol] = (byProtocol[protocol] ?? 0) + count;
    byKind[verdict.client.kind] = (byKind[verdict.client.kind] ?? 0) + count;
    if (verdict.legacy) legacy += count;
    if (verdict.client.kind === 'browser') {
      browsers += count;
      if (verdict.legacy) legacyBrowsers += count;
    }
  }
  const total = Object.values(byProtocol).reduce((a, b) => a + b, 0);
  return { total, byProtocol, byKind, legacy, legacyBrowsers, browsers };
}

describe.runIf(hasTool('nginx') && hasTool('curl') && hasTool('openssl'))('analyse on logs a real nginx wrote', () => {
  let ws: Workspace;
  let nginx: RunningServer;
  const sent = new Map<string, number>();
  const streamSent = new Map<string, number>();
  const failures = { 'protocol-too-old': 0, 'no-shared-cipher': 0 };
  const stream = nginxStreamModule();
  let file: (name: string) => string;
  let from = 0;

  beforeAll(async () => {
    ws = await workspace('ltf-analyse-cmd-');
    file = (name) => path.join(ws.dir, name);
    const [legacyPort, modernPort, streamPort] = [await freePort(), await freePort(), await freePort()];
    const dir = ws.dir;
    await writeFile(
      file('nginx.conf'),
      `${stream ? `load_module ${stream};\n` : ''}${isRoot ? `user ${os.userInfo().username};\n` : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  log_format tls '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$ssl_protocol" "$ssl_cipher"';
  log_format noua '$remote_addr [$time_local] "$request" $status $ssl_protocol';
  server {
    listen 127.0.0.1:${legacyPort} ssl;
    ssl_certificate ${ws.certFile}; ssl_certificate_key ${ws.keyFile};
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    access_log ${dir}/access.log tls;
    access_log ${dir}/combined.log combined;
    access_log ${dir}/noua.log noua;
    location / { return 200 "ok"; }
  }
  server {
    listen 127.0.0.1:${modernPort} ssl;
    ssl_certificate ${ws.certFile}; ssl_certificate_key ${ws.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE+AESGCM;
    access_log off;
    location / { return 200 "ok"; }
  }
}
${
  stream
    ? `stream {
  log_format conn '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time "$ssl_preread_server_name" "$ssl_preread_protocol"';
  server {
    listen 127.0.0.1:${streamPort};
    ssl_preread on;
    proxy_pass 127.0.0.1:${modernPort};
    access_log ${dir}/stream.log conn;
  }
}`
    : ''
}
`,
    );
    nginx = await startServer('nginx', 'nginx', ['-c', file('nginx.conf'), '-e', file('error.log')], stream ? [legacyPort, modernPort, streamPort] : [legacyPort, modernPort]);
    from = Date.now();
    const tasks = VERSIONS.flatMap((version) => USER_AGENTS.map((userAgent) => async () => ({ version, userAgent, result: await curl(legacyPort, version, userAgent, PATHS, ws.certFile) })));
    for (const { version, userAgent, result } of await inBatches(tasks)) {
      expect(result.code, result.stderr).toBe(0);
      const key = `${PROTOCOL_OF[version]} | ${userAgent}`;
      sent.set(key, (sent.get(key) ?? 0) + PATHS.length);
    }
    // Refused by the modern server: counted from its error log as "already cannot connect".
    for (const version of ['1.0', '1.1'] as const) if ((await curl(modernPort, version, USER_AGENTS[2] as string, ['/'], ws.certFile)).code !== 0) failures['protocol-too-old']++;
    if ((await opensslClient(modernPort, ['-tls1_2', '-cipher', 'AES128-SHA'])) !== 0) failures['no-shared-cipher']++;
    // Through the router: one connection per version; TLS 1.0 and 1.1 are offered, then refused upstream.
    if (stream) {
      for (const version of VERSIONS) {
        const result = await curl(streamPort, version, 'router-probe/1.0', ['/'], ws.certFile);
        // The router passes TLS 1.0 and 1.1 to the modern server, which refuses them: logged there too.
        if (result.code !== 0 && (version === '1.0' || version === '1.1')) failures['protocol-too-old']++;
        streamSent.set(PROTOCOL_OF[version], (streamSent.get(PROTOCOL_OF[version]) ?? 0) + 1);
      }
    }
    await nginx.stop();
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop();
    await ws?.remove();
  });

  it('--json: the requests counted exactly as the live path would count what was sent', async () => {
    const doc = await analyseJson([file('access.log')]);
    const expected = expectedOf(sent);
    expect(sent.size).toBe(VERSIONS.length * USER_AGENTS.length);
    const span = doc.span!;
    expect(span.requests.total).toBe(expected.total);
    expect(span.requests.byProtocol).toEqual(expected.byProtocol);
    expect(span.requests.byKind).toEqual(expected.byKind);
    expect(span.requests.legacy).toBe(expected.legacy);
    expect(span.legacyShareBrowsers).toBeCloseTo(expected.legacyBrowsers / expected.browsers, 10);
    // Legacy: TLS 1.0 and 1.1, and IE 8 and Android 2.3 whatever the protocol.
    expect(span.requests.byReason['tls-version']).toBe(expected.byProtocol.TLSv1! + expected.byProtocol['TLSv1.1']!);
    expect(span.whatIf[0]).toMatchObject({ minimum: 'TLSv1.2', requests: expected.legacy });
    // One address, seven user agents: seven visitors (HyperLogLog is exact at this size).
    expect(span.visitors.total).toBe(USER_AGENTS.length);
    // The windows end at the log's last line: everything was sent within the last 24 h of it.
    expect(doc.windows['24h'].requests.total).toBe(expected.total);
    expect(Date.parse(doc.analysis.from!)).toBeGreaterThanOrEqual(Math.floor(from / 1000) * 1000 - 1000);
    expect(doc.analysis.basis).toBe('protocol and user agent');
    expect(doc.analysis.inputs[0]).toMatchObject({ format: 'nginx', formatSource: 'detected', unreadable: 0, requests: expected.total });
    // Legacy browsers apart from programs: IE 8 and Android 2.3 are people, python-requests is not.
    const people = doc.analysis.legacyClients.browsers.map((row) => row.browser);
    expect(people).toEqual(expect.arrayContaining(['IE', 'Android Browser']));
    expect(doc.analysis.legacyClients.others.every((row) => row.kind !== 'browser')).toBe(true);
  });

  it('the error log counts as "already cannot connect", by reason; the stream log as connections by offered version', async () => {
    const inputs = [file('access.log'), file('error.log'), ...(stream ? [file('stream.log')] : [])];
    const doc = await analyseJson(inputs);
    expect(failures).toEqual({ 'protocol-too-old': stream ? 4 : 2, 'no-shared-cipher': 1 });
    const byReason = doc.span!.handshakeFailures.byReason;
    expect({ 'protocol-too-old': byReason['protocol-too-old'], 'no-shared-cipher': byReason['no-shared-cipher'] }).toEqual(failures);
    expect(doc.span!.whatIf[0]!.cannotConnect).toBe(failures['protocol-too-old'] + failures['no-shared-cipher']);
    if (stream) {
      const census = doc.analysis.census!;
      // The readiness probe of the test harness connects without a ClientHello: `none`.
      const offered = Object.fromEntries(Object.entries(census.span.byOffered).filter(([version, n]) => n > 0 && version !== 'none'));
      expect(offered).toEqual(Object.fromEntries(streamSent));
      expect(census.span.whatIf[0]).toMatchObject({ minimum: 'TLSv1.2', connections: (streamSent.get('TLSv1') ?? 0) + (streamSent.get('TLSv1.1') ?? 0) });
    }
    const summary = (await analyse(inputs)).stdout;
    expect(summary).toContain(`already cannot connect): ${failures['protocol-too-old'] + 1} (protocol-too-old ${failures['protocol-too-old']}, no-shared-cipher 1)`);
    if (stream) expect(summary).toMatch(/Router connections \(nginx stream, highest version offered\)/);
  });

  it('the summary: legacy share, among browsers, what-if, top clients with people apart, the span', async () => {
    const run = await analyse([file('access.log')]);
    expect(run.code).toBe(0);
    const expected = expectedOf(sent);
    expect(run.stdout).toContain(`Legacy share           ${((expected.legacy / expected.total) * 100).toFixed(2)} %  (${expected.legacy} of ${expected.total} requests)`);
    expect(run.stdout).toContain(`Among browsers         ${((expected.legacyBrowsers / expected.browsers) * 100).toFixed(2)} %`);
    expect(run.stdout).toMatch(/minimum TLS 1\.2: \d+ requests .* to the fallback page/);
    const people = run.stdout.slice(run.stdout.indexOf('Top legacy clients: browsers (people)'), run.stdout.indexOf('Top legacy clients: bots'));
    expect(people).toMatch(/\n +IE 8 on Windows XP +8 requests +1 visitors\n/);
    expect(people).toMatch(/\n +Android Browser 2\.3 on Android 2\.3 +8 requests/);
    expect(people).not.toMatch(/python-requests|Googlebot/);
    expect(run.stdout).toMatch(/Whole log \(\d{4}-\d\d-\d\d \d\d:\d\d to /);
    expect(run.stdout).not.toMatch(/ALONE/);
  });

  it('a log without a protocol field is analysed by user agent alone, one without user agents by protocol alone: the summary says so', async () => {
    const combined = await analyse([file('combined.log')]);
    expect(combined.code).toBe(0);
    expect(combined.stdout).toMatch(/Analysed by USER AGENT ALONE/);
    const doc = await analyseJson([file('combined.log')]);
    expect(doc.analysis.basis).toBe('user agent alone');
    // Legacy by user agent only: IE 8 and Android 2.3 at every version.
    expect(doc.span!.requests.legacy).toBe(doc.span!.requests.byReason['user-agent']);
    const policy = buildPolicy({});
    const byAgent = [...sent].reduce((sum, [key, count]) => sum + (classifyClient({ protocol: null, cipher: null, servername: null, source: 'log' }, key.split(' | ')[1], policy).legacy ? count : 0), 0);
    expect(byAgent).toBeGreaterThan(0);
    expect(doc.span!.requests.byReason['user-agent']).toBe(byAgent);
    expect(doc.span!.requests.byProtocol.none).toBe(expectedOf(sent).total);

    const noUa = await analyse([file('noua.log'), '--format', 'nginx', '--log-format', `'$remote_addr [$time_local] "$request" $status $ssl_protocol'`]);
    expect(noUa.stderr).toBe('');
    expect(noUa.stdout).toMatch(/Analysed by PROTOCOL ALONE/);
    const noUaDoc = await analyseJson([file('noua.log'), '--format', 'nginx', '--log-format', '$remote_addr [$time_local] "$request" $status $ssl_protocol']);
    expect(noUaDoc.analysis.basis).toBe('protocol alone');
    expect(noUaDoc.span!.requests.byProtocol).toEqual(expectedOf(sent).byProtocol);
  });

  it('gzipped, split and concatenated inputs, and stdin, count the same as the one file', async () => {
    const text = await readFile(file('access.log'), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    const half = Math.floor(lines.length / 2);
    await writeFile(file('part1.log.gz'), gzipSync(`${lines.slice(0, half).join('\n')}\n`));
    await writeFile(file('part2.log'), `${lines.slice(half).join('\n')}\n`);
    const whole = await analyseJson([file('access.log')]);
    const parts = await analyseJson([file('part1.log.gz'), file('part2.log')]);
    expect(parts.span!.requests).toEqual(whole.span!.requests);
    expect(parts.analysis.inputs[0]).toMatchObject({ compressed: true });
    // Two gzip members one after the other, as `cat a.gz b.gz` makes them, on stdin.
    const concatenated = Buffer.concat([gzipSync(`${lines.slice(0, half).join('\n')}\n`), gzipSync(`${lines.slice(half).join('\n')}\n`)]);
    const piped = await analyseJson(['-'], { stdin: Readable.from([concatenated]) });
    expect(piped.span!.requests).toEqual(whole.span!.requests);
  });

  it('a truncated last line, binary garbage and a 64 KB line are counted and shown with file and line, and never stop the run', async () => {
    const text = await readFile(file('access.log'), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    const damaged = [...lines.slice(0, 3), '\u0000\u0001\u00ff binary \u001b[31m garbage', ...lines.slice(3), `${'x'.repeat(64 * 1024)}`, (lines[0] as string).slice(0, 40)].join('\n');
    await writeFile(file('damaged.log'), damaged);
    const doc = await analyseJson([file('damaged.log')]);
    const whole = await analyseJson([file('access.log')]);
    expect(doc.span!.requests).toEqual(whole.span!.requests);
    expect(doc.analysis.inputs[0]!.unreadable).toBe(3);
    const run = await analyse(['damaged.log', '--max-unreadable-shown', '2'], { cwd: ws.dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Unreadable lines: 3');
    expect(run.stdout).toContain('damaged.log:4: ');
    // The terminal escape of the garbage line is shown, not sent.
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout.match(/damaged\.log:\d+: /g)).toHaveLength(2);
  });

  it.runIf(hasTool('chromium'))('--html writes one self-contained file that opens from disk and shows the figures of --json, each window reachable', async () => {
    const htmlFile = file('report.html');
    const json = await analyseJson([file('access.log'), file('error.log'), '--html', htmlFile]);
    const html = await readFile(htmlFile, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(htmlFile).href);
      const figure = (view: string, name: string) => page.locator(`#view-${view} [data-figure="${name}"]`).innerText();
      // The whole log is shown first.
      expect(await page.locator('#view-span').isVisible()).toBe(true);
      expect(await page.locator('#view-24h').isVisible()).toBe(false);
      expect(await figure('span', 'requests.total')).toBe(String(json.span!.requests.total));
      expect(await figure('span', 'requests.legacy')).toBe(String(json.span!.requests.legacy));
      expect(await figure('span', 'legacyShareBrowsers')).toBe(`${(json.span!.legacyShareBrowsers * 100).toFixed(2)}%`);
      expect(await figure('span', 'whatIf.0.cannotConnect')).toBe(String(json.span!.whatIf[0]!.cannotConnect));
      expect(await figure('span', 'requests.byProtocol.TLSv1')).toBe(String(json.span!.requests.byProtocol.TLSv1));
      // The tabs work from a file: the 24 h view comes up, the whole log goes.
      await page.locator('#view-span a[href="#view-24h"]').click();
      expect(await page.locator('#view-24h').isVisible()).toBe(true);
      expect(await page.locator('#view-span').isVisible()).toBe(false);
      expect(await figure('24h', 'requests.total')).toBe(String(json.windows['24h'].requests.total));
      expect(requests.every((url) => url.startsWith('file:'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('--into merges the history into a stats file that a live TrafficStats then reports; importing again counts nothing twice', async () => {
    const statsFile = file('stats.json');
    const first = await analyseJson([file('access.log'), file('error.log'), '--into', statsFile]);
    expect(first.analysis.imported).toMatchObject({ file: statsFile, requests: first.span!.requests.total, skipped: 0 });
    const again = await analyse([file('access.log'), '--into', statsFile]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already imported/);

    const stats = new TrafficStats({ statsFile });
    try {
      await stats.ready;
      const report = buildReport(stats.snapshot(), stats.now(), stats.storageStatus());
      expect(report.windows['24h'].requests.total).toBe(first.span!.requests.total);
      expect(report.windows['24h'].requests.legacy).toBe(first.span!.requests.legacy);
      expect(report.windows['24h'].handshakeFailures.total).toBe(failures['protocol-too-old'] + failures['no-shared-cipher']);
      expect(report.windows['24h'].visitors.total).toBe(USER_AGENTS.length);

      // A live process holds the file: refused, with the way out, and the file is not touched.
      const before = await readFile(statsFile, 'utf8');
      const refused = await analyse([file('combined.log'), '--into', statsFile]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`cannot import into .*stats\\.json: a live process holds it \\(pid ${process.pid}`));
      expect(refused.stderr).toMatch(/Stop that process, run analyse --into again/);
      expect(await readFile(statsFile, 'utf8')).toBe(before);
    } finally {
      await stats.close();
    }
  });

  it('a grown log imported again adds only its new lines', async () => {
    const statsFile = file('grown.json');
    const lines = (await readFile(file('access.log'), 'utf8')).split('\n').filter(Boolean);
    await writeFile(file('growing.log'), `${lines.slice(0, 10).join('\n')}\n`);
    await analyseJson([file('growing.log'), '--into', statsFile]);
    await appendFile(file('growing.log'), `${lines.slice(10).join('\n')}\n`);
    const second = await analyseJson([file('growing.log'), '--into', statsFile]);
    expect(second.analysis.inputs[0]).toMatchObject({ skipped: 10, counted: lines.length - 10 });
    const stats = new TrafficStats({ statsFile });
    try {
      await stats.ready;
      expect(buildReport(stats.snapshot(), stats.now(), stats.storageStatus()).windows['24h'].requests.total).toBe(lines.length);
    } finally {
      await stats.close();
    }
  });
});

describe('analyse: usage', () => {
  let dir: Workspace;
  beforeAll(async () => {
    dir = await workspace('ltf-analyse-usage-');
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it('no log, an unknown flag, a bad value: exit 2 with the fix', async () => {
    const none = await analyse([]);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/no log given; name the log files/);
    const unknown = await analyse(['x.log', '--stats-file', 'a.json']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option --stats-file \(to merge into a stats file, use --into FILE\)/);
    const format = await analyse(['x.log', '--format', 'apachee']);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format is "apachee"; expected one of/);
    const span = await analyse(['x.log', '--span-days', '0']);
    expect(span.code).toBe(2);
    expect(span.stderr).toMatch(/--span-days/);
  });

  it('a missing file and a format that cannot be told: exit 2 naming the input (and the candidates)', async () => {
    const missing = await analyse(['nope.log'], { cwd: dir.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.log/);
    await writeFile(path.join(dir.dir, 'odd.log'), 'this is no log line anyone writes\nnor this\n');
    const odd = await analyse(['odd.log'], { cwd: dir.dir });
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/cannot tell the format of odd\.log: .*Tried: .*nginx/);
  });

  it('--help lists the analysis flags, derived from the option descriptions', async () => {
    const run = await analyse(['--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--format NAME', '--log-format FORMAT', '--html FILE', '--json', '--into FILE', '--max-unreadable-shown', '--span-days DAYS', '--retention-days DAYS']) expect(run.stdout).toContain(flag);
  });

  it('a progress line on a terminal only, and gone before the summary', async () => {
    const log = path.join(dir.dir, 'progress.log');
    const line = '127.0.0.1 - - [01/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0" "TLSv1.2" "ECDHE-RSA-AES128-GCM-SHA256"\n';
    await writeFile(log, line.repeat(30_000));
    const piped = await analyse([log]);
    expect(piped.stderr).toBe('');
    const tty = await analyse([log], { tty: true });
    expect(tty.code).toBe(0);
    // The first batch always draws; redraws are at most 4 a second; a line drawn is cleared before the summary.
    const clearLine = '\r\u001b[K';
    expect(tty.stderr.startsWith(clearLine)).toBe(true);
    expect(tty.stderr.slice(clearLine.length)).toMatch(/^\[#*\.*\] +\d+ % [\d.]+ MiB of [\d.]+ MiB · [\d,]+ lines · [\d,]+ lines\/s/);
    expect(tty.stderr.endsWith(clearLine)).toBe(true);
  });
});
