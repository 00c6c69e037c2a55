/** Issue 15: the report's tables as CSV (RFC 4180), with spreadsheet formula injection guarded. */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { FallbackEngine } from '../src/fallback/engine.js';
import { resolveFallbackOptions } from '../src/fallback/options.js';
import { legacyTlsReportHandler } from '../src/report/handler.js';
import { buildReport } from '../src/report/document.js';
import { CSV_TABLES, csvText, renderCsv } from '../src/report/formats/csv.js';
import { TrafficStats } from '../src/stats/traffic-stats.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { CHROME, IE8 } from './helpers/fallback.js';

/** RFC 4180 reader: enough to check that what was written reads back cell for cell. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field).toBe('');
  return rows;
}

describe('csvText', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=cmd', "'\t=cmd"],
    ['=cmd|" /C calc"!A0', `"'=cmd|"" /C calc""!A0"`],
    ['', ''],
  ])('%j → %j', (input, output) => {
    expect(csvText(input)).toBe(output);
  });
});

const stats: TrafficStats[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
  await Promise.all(stats.splice(0).map((s) => s.close()));
});

async function setup() {
  const counted = new TrafficStats({ summaryInterval: 0 });
  stats.push(counted);
  // Group names are the owner's, but still never a formula in the owner's spreadsheet.
  const engine = new FallbackEngine(resolveFallbackOptions<null>({ mode: 'observe', stats: counted, groups: { '/api': '=HYPERLINK("http://x")', '/shop': 'Shop, Ltd' } }));
  const send = (path: string, userAgent: string, host = 'www.example.com') => {
    const req = { method: 'GET', url: path, headers: { host, 'user-agent': userAgent }, socket: { remoteAddress: '192.0.2.9' } };
    // No onLegacy hook: the engine answers synchronously.
    if (engine.handle(req as unknown as IncomingMessage, path, null) instanceof Promise) throw new Error('expected a synchronous outcome');
  };
  send('/api/x', IE8);
  send('/shop/y', IE8);
  send('/shop/y', CHROME, 'shop.example.com');
  const handler = legacyTlsReportHandler({ stats: counted, token: 'csv-test-token-0123456789' });
  const server = http.createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  servers.push(server);
  return { counted, http: request(`http://127.0.0.1:${await listenOn(server)}`) };
}

describe('report.csv', () => {
  it('serves every table as RFC 4180 CSV that reads back as written, behind the token', async () => {
    const { http: client } = await setup();
    expect((await client.get('/_legacy-tls/report.csv?table=clients')).status).toBe(401);
    for (const table of CSV_TABLES) {
      const response = await client.get(`/_legacy-tls/report.csv?table=${table}&window=7d`).set('authorization', 'Bearer csv-test-token-0123456789');
      expect(response.status, table).toBe(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="legacy-tls-${table}-7d.csv"`);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.text.endsWith('\r\n')).toBe(true);
      const rows = parseCsv(response.text);
      const width = rows[0]!.length;
      for (const row of rows) expect(row, table).toHaveLength(width);
    }
  });

  it('lists the legacy clients and the groups, with formula-like labels guarded', async () => {
    const { http: client } = await setup();
    const auth = 'Bearer csv-test-token-0123456789';
    const clients = parseCsv((await client.get('/_legacy-tls/report.csv?table=clients').set('authorization', auth)).text);
    expect(clients[0]).toEqual(['window', 'browser', 'version', 'os', 'requests', 'visitors']);
    expect(clients.slice(1)).toEqual([['24h', 'IE', '8', 'Windows XP', '2', '1']]);
    const groups = parseCsv((await client.get('/_legacy-tls/report.csv?table=groups').set('authorization', auth)).text);
    const names = groups.slice(1).map((row) => row[2]);
    expect(names).toContain("'=HYPERLINK(\"http://x\")");
    expect(names).toContain('Shop, Ltd');
    expect(names.every((name) => !/^[=+\-@]/.test(name!))).toBe(true);
    const hosts = parseCsv((await client.get('/_legacy-tls/report.csv?table=hosts').set('authorization', auth)).text);
    expect(hosts.slice(1).map((row) => [row[2], row[7], row[8]])).toEqual([
      ['', '3', '2'],
      ['www.example.com', '2', '2'],
      ['shop.example.com', '1', '0'],
    ]);
  });

  it('refuses an unknown table or window with a clear 400', async () => {
    const { http: client } = await setup();
    const auth = 'Bearer csv-test-token-0123456789';
    for (const query of ['', '?table=../../etc', '?table=clients&window=1y', '?table=CLIENTS']) {
      const response = await client.get(`/_legacy-tls/report.csv${query}`).set('authorization', auth);
      expect(response.status, query).toBe(400);
      expect(response.text).toMatch(/use (\?table= )?one of/);
    }
  });

  it('guards the cells that come from user agents in the document model too', async () => {
    const { counted } = await setup();
    const report = buildReport(counted.snapshot(), counted.now(), counted.storageStatus());
    report.windows['24h'].topLegacyClients.push({ browser: '=cmd|" /C calc"!A0', version: '-1', os: '@x', requests: 1, visitors: 1 });
    const rows = parseCsv(renderCsv(report, '24h', 'clients')!);
    expect(rows.at(-1)).toEqual(['24h', '\'=cmd|" /C calc"!A0', "'-1", "'@x", '1', '1']);
    expect(renderCsv(report, '24h', 'nope')).toBeNull();
  });
});
