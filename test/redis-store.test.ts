/**
 * The Redis store (issue 12) against a real redis-server on a free loopback port: one set of numbers for
 * several processes, exactly once through lost replies, nothing lost through outages and restarts, a clear
 * error for a wrong password or a port that is not Redis, and nothing in Redis that names a visitor.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, InvalidOptionError, redisStore, TrafficStats, type ReportDocument, type Verdict } from '../src/index.js';
import { HOUR_MS, MAX_CLIENTS_PER_BUCKET } from '../src/stats/model.js';
import { APPLY_DELTA_SCRIPT, REDIS_ACL_COMMANDS } from '../src/stats/stores/redis-layout.js';
import { closeServer, listenOn, testCertificate } from './helpers/servers.js';
import { freePort, startRedis, startRelay, type RedisServer } from './helpers/redis.js';
import { hasTool } from './helpers/tools.js';
import { visitorTolerance, workerOf } from './helpers/stats.js';

const haveRedis = hasTool('redis-server');

const UA = 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; MARKER-UA-7f3a)';

function verdict(protocol: 'TLSv1' | 'TLSv1.3', browser = 'IE', version = '8.0'): Verdict {
  const legacy = protocol === 'TLSv1';
  return {
    legacy,
    reasons: legacy ? ['tls-version'] : [],
    tls: { protocol, cipher: null, servername: null, source: 'socket' },
    client: { browser, version, os: 'Windows XP', bot: false, kind: 'browser' },
  };
}

/** `count` requests, each from its own address `prefix.N`, on `protocol`. */
function record(stats: TrafficStats, count: number, protocol: 'TLSv1' | 'TLSv1.3', from = 0, prefix = '198.51.100'): void {
  for (let i = from; i < from + count; i++) {
    stats.recordRequest({ verdict: verdict(protocol), action: protocol === 'TLSv1' ? 'redirected' : 'passed', remoteAddress: `${prefix}.${i % 250}.${Math.floor(i / 250)}`, userAgent: UA });
  }
}

async function report(stats: TrafficStats): Promise<ReportDocument> {
  await stats.refresh();
  return buildReport(stats.snapshot(), stats.now(), stats.storageStatus());
}

interface Captured {
  warn(message: string): void;
  info(message: string): void;
  lines: string[];
}

function logger(): Captured {
  const lines: string[] = [];
  return { lines, warn: (m) => lines.push(m), info: (m) => lines.push(m) };
}

const open: TrafficStats[] = [];
function stats(url: string, options: { keyPrefix?: string; instance?: string; log?: Captured } = {}): TrafficStats {
  const store = redisStore({ url, keyPrefix: options.keyPrefix ?? 'ltf:', instance: options.instance ?? 'test', connectTimeout: 500, commandTimeout: 2000 });
  const created = new TrafficStats({ store, flushInterval: 3_600_000, logger: options.log ?? logger() });
  open.push(created);
  return created;
}

describe.skipIf(!haveRedis)('redisStore: options', () => {
  it.each([
    [{ url: 'http://127.0.0.1:6379' }, 'url', 'http is not supported'],
    [{ url: 'redis://:hunter2@' }, 'url', 'expected a redis://'],
    [{ url: 'redis://127.0.0.1:6379/x' }, 'url', 'database number'],
    [{ url: 'redis://127.0.0.1:6379?db=1' }, 'url', 'no query'],
    [{}, 'url', 'expected a redis://'],
    [{ url: 'redis://127.0.0.1', keyPrefix: 'has space' }, 'keyPrefix', 'printable characters without spaces'],
    [{ url: 'redis://127.0.0.1', instance: '' }, 'instance', 'printable'],
    [{ url: 'redis://127.0.0.1', tls: { ca: 'x' } }, 'tls', 'rediss://'],
    [{ url: 'redis://127.0.0.1', commandTimeout: 0 }, 'commandTimeout', 'from 100'],
    [{ url: 'redis://127.0.0.1', keyPrefx: 'x' }, 'keyPrefx', 'keyPrefix'],
  ])('%j is refused, naming %s', (options, option, expected) => {
    const error = (() => {
      try {
        redisStore(options as never);
      } catch (e) {
        return e as InvalidOptionError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error?.option).toBe(option);
    expect(error?.message).toContain(expected);
  });

  it('never shows the password', () => {
    const error = (() => {
      try {
        redisStore({ url: 'redis://user:hunter2@127.0.0.1:6379/x' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toContain('redis://user:***@');
    expect(error?.message).not.toContain('hunter2');
    const store = redisStore({ url: 'rediss://user:hunter2@redis.example.com:6380/2' });
    expect(JSON.stringify(store.options)).not.toContain('hunter2');
    expect(store.status().location).toBe('rediss://redis.example.com:6380/2 (key prefix ltf:)');
  });
});

describe.skipIf(!haveRedis)('redisStore with a real Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await redis?.stop();
  });

  it('gives two processes one set of numbers: exact counts, visitors united through the shared salt', async () => {
    const a = stats(redis.url, { keyPrefix: 'site1:', instance: 'web-a' });
    const b = stats(redis.url, { keyPrefix: 'site1:', instance: 'web-b' });
    await Promise.all([a.ready, b.ready]);
    // First writer wins, atomically: both hash visitors with the same salt.
    expect(a.visitorSalt.equals(b.visitorSalt)).toBe(true);
    record(a, 120, 'TLSv1', 0);
    record(b, 80, 'TLSv1.3', 60);
    a.recordHandshake('TLSv1', false);
    b.recordHandshake('TLSv1.3', true);
    await Promise.all([a.flush(), b.flush()]);
    for (const seen of [await report(a), await report(b)]) {
      const day = seen.windows['24h'];
      expect(day.requests.total).toBe(200);
      expect(day.requests.byProtocol.TLSv1).toBe(120);
      expect(day.handshakes.total).toBe(2);
      expect(seen.totals.handshakes.reduce((n, row) => n + row.count, 0)).toBe(2);
      // Addresses 0–139 in all; 60–119 were seen by both: 140 visitors, within the sketch's error (not the 200 a sum gives).
      expect(Math.abs(day.visitors.total - 140)).toBeLessThanOrEqual(visitorTolerance(140));
      expect(day.topLegacyClients[0]).toMatchObject({ browser: 'IE', version: '8', requests: 120 });
      expect(seen.windows['7d'].requests.total).toBe(200);
      expect(seen.storage.instances?.map((i) => [i.name, i.requests]).sort()).toEqual([['web-a', 120], ['web-b', 80]]);
    }
    // Another prefix is another site: it sees none of it.
    const other = stats(redis.url, { keyPrefix: 'site2:' });
    await other.ready;
    expect((await report(other)).windows['24h'].requests.total).toBe(0);
    expect(other.visitorSalt.equals(a.visitorSalt)).toBe(false);
  });

  it('keeps nothing that names a visitor: no address, no user agent, only counts and sketch registers', async () => {
    const s = stats(redis.url, { keyPrefix: 'privacy:' });
    await s.ready;
    record(s, 30, 'TLSv1', 0, '203.0.113');
    await s.flush();
    const keys = redis.cli('--scan', '--pattern', 'privacy:*').trim().split('\n').filter(Boolean);
    expect(keys.length).toBeGreaterThan(3);
    const everything = keys.map((key) => `${key}\n${redis.cli('--no-raw', 'DUMP', key)}`).join('\n');
    expect(everything).not.toContain('203.0.113');
    expect(everything).not.toContain('MARKER-UA');
    expect(everything).not.toContain('MSIE');
    // Counters expire with the retention, hourly sketches after 49 hours.
    const hourKey = keys.find((key) => /^privacy:h:\d+$/.test(key)) as string;
    const sketchKey = keys.find((key) => /^privacy:hv:\d+$/.test(key)) as string;
    const hourStart = Number(hourKey.split(':')[2]);
    expect(Number(redis.cli('PEXPIRETIME', hourKey).trim())).toBe(hourStart + 90 * 86_400_000 + 3_600_000);
    expect(Number(redis.cli('PEXPIRETIME', sketchKey).trim())).toBe(hourStart + 49 * 3_600_000);
  });

  it('bounds the labels of a bucket like the model: the lightest goes to other, totals stay exact', async () => {
    const s = stats(redis.url, { keyPrefix: 'bounded:' });
    await s.ready;
    // 100 distinct legacy clients over 5 deltas, the first of each 20 seen 10 times.
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) {
        const times = i === 0 ? 10 : 1;
        for (let k = 0; k < times; k++) s.recordRequest({ verdict: verdict('TLSv1', `Client${round * 20 + i}`, '1.0'), action: 'redirected', remoteAddress: `192.0.2.${i}`, userAgent: `ua ${round} ${i}` });
      }
      await s.flush();
    }
    const hourKey = redis.cli('--scan', '--pattern', 'bounded:h:*').trim();
    const fields = redis.cli('HKEYS', hourKey).split('\n').filter((f) => f.startsWith('c:'));
    expect(fields.length).toBeLessThanOrEqual(MAX_CLIENTS_PER_BUCKET + 1);
    expect(fields).toContain('c:other');
    const seen = (await report(s)).windows['24h'];
    expect(seen.requests.total).toBe(5 * (19 + 10));
    // The heavy ones kept their slot (and the light ones they pushed out are in `other`).
    const heavy = seen.topLegacyClients.filter((row) => row.requests === 10).map((row) => row.browser).sort();
    expect(heavy).toEqual(['Client0', 'Client20', 'Client40', 'Client60', 'Client80']);
    expect(seen.topLegacyClients[0]).toMatchObject({ browser: 'other' });
  });

  it('writes a delta whose reply was lost exactly once (a TCP relay cuts the connection after the write)', async () => {
    const relay = await startRelay(redis.port);
    try {
      const log = logger();
      const s = stats(`redis://127.0.0.1:${relay.port}`, { keyPrefix: 'once:', log });
      await s.ready;
      record(s, 50, 'TLSv1.3');
      // Loaded, so that the trapped EVALSHA runs the script (a cold cache would answer NOSCRIPT, writing nothing).
      redis.cli('SCRIPT', 'LOAD', APPLY_DELTA_SCRIPT);
      const cut = relay.dropReplyAfter('EVALSHA');
      await s.flush();
      await cut;
      // The write reached Redis: the numbers are there once, though this process never heard so.
      expect(Number(redis.cli('HGET', 'once:t', 'r:TLSv1.3|0|browser|passed').trim())).toBe(50);
      expect(s.storageStatus().error).not.toBeNull();
      record(s, 7, 'TLSv1.3', 50);
      // The retry sends the same delta again (applied: no), then the new one.
      await s.flush();
      expect(s.storageStatus().error).toBeNull();
      expect(Number(redis.cli('HGET', 'once:t', 'r:TLSv1.3|0|browser|passed').trim())).toBe(57);
      expect((await report(s)).windows['24h'].requests.total).toBe(57);
      expect(relay.connections).toBeGreaterThanOrEqual(2);
      expect(log.lines.filter((line) => line.includes('unreachable'))).toHaveLength(1);
      expect(log.lines.filter((line) => line.includes('reachable again'))).toHaveLength(1);
    } finally {
      await relay.close();
    }
  });

  it('works for an ACL user allowed exactly the documented commands on its prefix, and refuses another prefix at start', async () => {
    // The list the docs give for an ACL rule: if the store used one more command, this user could not write or read.
    redis.cli('ACL', 'SETUSER', 'ltf-site', 'on', '>acl-pass-0123', 'resetkeys', '~aclsite:*', 'resetchannels', '-@all', ...REDIS_ACL_COMMANDS.map((c) => `+${c}`));
    const url = `redis://ltf-site:acl-pass-0123@127.0.0.1:${redis.port}`;
    const a = new TrafficStats({ store: redisStore({ url, keyPrefix: 'aclsite:', instance: 'acl-a', connectTimeout: 500, commandTimeout: 2000 }), flushInterval: 3_600_000, logger: logger() });
    open.push(a);
    await a.ready;
    record(a, 12, 'TLSv1');
    await a.flush();
    const seen = await report(a);
    expect(seen.storage.error).toBeNull();
    expect(seen.windows['24h'].requests.total).toBe(12);
    expect(seen.storage.instances?.map((row) => row.name)).toEqual(['acl-a']);
    // A prefix the ACL does not cover: a configuration error at start, naming url.
    const b = new TrafficStats({ store: redisStore({ url, keyPrefix: 'othersite:', connectTimeout: 500, commandTimeout: 2000 }), flushInterval: 3_600_000, logger: logger() });
    open.push(b);
    const error = await b.ready.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('url');
    expect((error as InvalidOptionError).message).toContain('NOPERM');
    expect((error as InvalidOptionError).message).not.toContain('acl-pass-0123');
  });

  it('sends a long backlog a few hours per script call, each once, even when a middle reply is lost', async () => {
    const relay = await startRelay(redis.port);
    try {
      const first = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 9 * HOUR_MS;
      let clock = first;
      const store = redisStore({ url: `redis://127.0.0.1:${relay.port}`, keyPrefix: 'backlog:', instance: 'backlog', connectTimeout: 500, commandTimeout: 2000 });
      const s = new TrafficStats({ store, flushInterval: 3_600_000, logger: logger(), now: () => clock });
      open.push(s);
      await s.ready;
      // Ten hours counted in memory (as while Redis is away), then written at once.
      for (let h = 0; h < 10; h++, clock += HOUR_MS) record(s, 10 + h, 'TLSv1');
      clock -= HOUR_MS;
      redis.cli('SCRIPT', 'LOAD', APPLY_DELTA_SCRIPT);
      redis.cli('CONFIG', 'RESETSTAT');
      // The third call carries hours 4–5: its reply is lost after Redis applied it.
      const cut = relay.dropReplyAfter(`"${first + 4 * HOUR_MS}"`);
      await s.flush();
      await cut;
      await s.flush();
      expect(s.storageStatus().error).toBeNull();
      for (let h = 0; h < 10; h++) {
        expect(Number(redis.cli('HGET', `backlog:h:${first + h * HOUR_MS}`, 'a:redirected').trim()), `hour ${h}`).toBe(10 + h);
      }
      expect(Number(redis.cli('HGET', 'backlog:t', 'r:TLSv1|1|browser|redirected').trim())).toBe(145);
      // Six chunks of at most two buckets (five of hours, one of days), and the lost one once more.
      const calls = /cmdstat_evalsha:calls=(\d+)/.exec(redis.cli('INFO', 'commandstats'))?.[1];
      expect(Number(calls)).toBe(7);
    } finally {
      await relay.close();
    }
  });

  it('reports in a cluster: the primary holds the Redis store, workers send it their deltas', async () => {
    const primary = stats(redis.url, { keyPrefix: 'cluster:' });
    await primary.ready;
    const worker = await workerOf(primary);
    record(worker, 40, 'TLSv1');
    await worker.flush();
    await primary.flush();
    // The worker's report asks the primary, which reads Redis first.
    const seen = await report(worker);
    expect(seen.windows['24h'].requests.total).toBe(40);
    expect(seen.storage.store).toBe('redis');
    expect(Number(redis.cli('HGET', 'cluster:t', 'r:TLSv1|1|browser|redirected').trim())).toBe(40);
    await worker.close();
  });
});

describe.skipIf(!haveRedis)('redisStore when Redis goes away', () => {
  it('serves through Redis down at start: counts in memory, writes it all when Redis comes, logs both once', async () => {
    const port = await freePort();
    const log = logger();
    const s = stats(`redis://127.0.0.1:${port}`, { keyPrefix: 'late:', log });
    await s.ready;
    record(s, 25, 'TLSv1');
    await s.flush();
    await s.flush();
    expect(s.storageStatus().error).toMatch(/ECONNREFUSED/);
    // The report still has this process's numbers.
    expect((await report(s)).windows['24h'].requests.total).toBe(25);
    const redis = await startRedis({ port });
    try {
      record(s, 5, 'TLSv1', 25);
      await s.flush();
      expect(s.storageStatus().error).toBeNull();
      expect(Number(redis.cli('HGET', 'late:t', 'r:TLSv1|1|browser|redirected').trim())).toBe(30);
      // Nobody had written a salt: this process's became the fleet's.
      expect(Buffer.from(redis.cli('GET', 'late:salt').trim(), 'base64').equals(s.visitorSalt)).toBe(true);
      expect(log.lines.filter((line) => line.includes('unreachable'))).toHaveLength(1);
      expect(log.lines.filter((line) => line.includes('reachable again'))).toHaveLength(1);
      await s.close();
    } finally {
      await redis.stop();
    }
  });

  it('loses nothing when Redis is killed and restarted with AOF mid-run', async () => {
    const redis = await startRedis({ aof: true });
    try {
      const s = stats(redis.url, { keyPrefix: 'aof:' });
      await s.ready;
      record(s, 100, 'TLSv1');
      await s.flush();
      await redis.kill();
      record(s, 40, 'TLSv1', 100);
      await s.flush();
      expect(s.storageStatus().error).not.toBeNull();
      record(s, 10, 'TLSv1', 140);
      await redis.restart();
      await s.flush();
      expect(s.storageStatus().error).toBeNull();
      const seen = await report(s);
      expect(seen.windows['24h'].requests.total).toBe(150);
      expect(Math.abs(seen.windows['24h'].visitors.total - 150)).toBeLessThanOrEqual(visitorTolerance(150));
      expect(Number(redis.cli('HGET', 'aof:t', 'r:TLSv1|1|browser|redirected').trim())).toBe(150);
      await s.close();
    } finally {
      await redis.stop();
    }
  });

  it('refuses a wrong password at start, naming url and never the password', async () => {
    const redis = await startRedis({ password: 'right-one' });
    try {
      const log = logger();
      const s = stats(`redis://:wrong-one@127.0.0.1:${redis.port}`, { log });
      const error = await s.ready.then(() => undefined, (e: unknown) => e as InvalidOptionError);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error?.option).toBe('url');
      expect(error?.message).toMatch(/WRONGPASS/);
      expect(error?.message).not.toContain('wrong-one');
      expect(log.lines.join('\n')).not.toContain('wrong-one');
      // Counting goes on in memory; nothing is ever sent.
      record(s, 3, 'TLSv1');
      await s.flush();
      expect((await report(s)).windows['24h'].requests.total).toBe(3);
      // With the right one it works.
      const ok = stats(`redis://:right-one@127.0.0.1:${redis.port}`);
      await ok.ready;
      record(ok, 2, 'TLSv1');
      await ok.flush();
      expect((await report(ok)).windows['24h'].requests.total).toBe(2);
    } finally {
      await redis.stop();
    }
  });

  it('refuses a port that is not Redis (an HTTP server) at start', async () => {
    const server = http.createServer((_req, res) => res.end('not redis'));
    const port = await listenOn(server);
    try {
      const s = stats(`redis://127.0.0.1:${port}`);
      const error = await s.ready.then(() => undefined, (e: unknown) => e as InvalidOptionError);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error?.message).toMatch(/does not speak Redis/);
    } finally {
      await closeServer(server);
    }
  });
});

describe.skipIf(!haveRedis)('redisStore over TLS (rediss://)', () => {
  it('writes and reads through a TLS Redis with a password, and refuses a certificate it cannot verify at start', async () => {
    const pair = await testCertificate();
    const redis = await startRedis({ tls: pair, password: 'tls-pass-0123' });
    try {
      const url = `rediss://:tls-pass-0123@127.0.0.1:${redis.tlsPort}`;
      const store = redisStore({ url, keyPrefix: 'tls:', instance: 'tls-a', tls: { ca: pair.cert, servername: 'localhost' }, connectTimeout: 2000, commandTimeout: 2000 });
      const s = new TrafficStats({ store, flushInterval: 3_600_000, logger: logger() });
      open.push(s);
      await s.ready;
      record(s, 9, 'TLSv1');
      await s.flush();
      expect((await report(s)).windows['24h'].requests.total).toBe(9);
      expect(Number(redis.cli('HGET', 'tls:t', 'r:TLSv1|1|browser|redirected').trim())).toBe(9);
      // Without the CA: the server's certificate cannot be verified, a configuration error naming url.
      const unverified = new TrafficStats({ store: redisStore({ url, keyPrefix: 'tls:', connectTimeout: 2000 }), flushInterval: 3_600_000, logger: logger() });
      open.push(unverified);
      const error = await unverified.ready.then(() => undefined, (e: unknown) => e as InvalidOptionError);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error?.option).toBe('url');
      expect(error?.message).toMatch(/TLS connection failed/);
      expect(error?.message).not.toContain('tls-pass-0123');
      // redis:// against the TLS port: Redis drops the connection, which looks like any network failure, so
      // the store waits it out in memory rather than refusing (the log and the report say unreachable).
      const plain = new TrafficStats({ store: redisStore({ url: `redis://:tls-pass-0123@127.0.0.1:${redis.tlsPort}`, keyPrefix: 'tls:', connectTimeout: 1000, commandTimeout: 1000 }), flushInterval: 3_600_000, logger: logger() });
      open.push(plain);
      await plain.ready;
      expect(plain.storageStatus().error).toMatch(/ECONNRESET|closed|timeout/i);
    } finally {
      await redis.stop();
    }
  });
});
