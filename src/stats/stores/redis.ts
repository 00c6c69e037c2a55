import { randomBytes } from 'node:crypto';
import type { RedisArgument } from '@redis/client';
import { InvalidOptionError } from '../../errors.js';
import { emptyState, isEmptyState, mergeState, prune, type StatsState } from '../model.js';
import { fromDocument, toDocument } from '../serialize.js';
import type { InstanceStatus, StorageStatus } from '../types.js';
import { APPLY_DELTA_SCRIPT, APPLY_DELTA_SHA, decodeState, encodeDelta, hashReply, readPlan, type ReadReplies } from './redis-layout.js';
import { resolveRedisStoreOptions, type RedisStoreOptions, type ResolvedRedisStoreOptions } from './redis-options.js';
import type { StatsStore, StoreContext } from './store.js';

export type { RedisStoreOptions } from './redis-options.js';

/** What this store uses of the client: raw commands (binary-safe, pipelined), connect, close. */
interface Client {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(args: readonly RedisArgument[], options?: { timeout?: number; typeMapping?: typeof AS_BUFFERS }): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * Values as bytes: sketches are binary, and so may be anything another writer left under the prefix.
 * 36 is RESP's blob string (`RESP_TYPES.BLOB_STRING`); the client is loaded only by a store that connects.
 */
const AS_BUFFERS = { 36: Buffer } as const;

/** A report does not try a connection that failed less than this ago: it would wait for the same failure. */
const RETRY_GAP_MS = 1_000;
/**
 * Hour (or day) buckets per script call. A script blocks Redis while it runs: one saturated hour (every
 * cap reached, hosts and groups included) costs it about 7 ms, so the backlog of a long outage goes out in
 * calls that stay well under 50 ms each, even on a loaded machine.
 */
const MAX_BUCKETS_PER_DELTA = 2;
/** With nothing to send, a flush still says "alive" this often, so the instance table shows who reports. */
const HEARTBEAT_MS = 1_000;

/**
 * Why Redis cannot be used: `config` (a wrong password, an ACL that forbids what the store needs, a port
 * that does not speak Redis, TLS that does not match) is refused at start with an `InvalidOptionError`
 * naming `url`; `unreachable` (refused, timed out, reset) is waited out, counting in memory.
 */
function classify(error: unknown): { kind: 'config' | 'unreachable'; reason: string } {
  const e = error as NodeJS.ErrnoException & { constructor?: { name?: string } };
  const message = (e?.message ?? String(error)).slice(0, 300).replace(/\.$/, '');
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b|^ERR (AUTH|invalid password|Client sent AUTH)/.test(message)) return { kind: 'config', reason: `Redis refused the login or a command: ${message}` };
  if (/Unknown RESP type|Protocol error|RESP/i.test(message)) return { kind: 'config', reason: `the server does not speak Redis (${message})` };
  const code = e?.code ?? '';
  if (/^(ERR_SSL|ERR_TLS|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code) || /SSL|certificate/i.test(message)) return { kind: 'config', reason: `the TLS connection failed (${code || 'TLS'}: ${message})` };
  return { kind: 'unreachable', reason: code ? `${code}: ${message}` : message };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms (${what})`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A delta on its way: frozen until Redis confirms it, so a retry sends exactly the same one. */
interface InFlight {
  seq: number;
  args: RedisArgument[];
  state: StatsState;
}

/**
 * The numbers of a fleet in one Redis: every server (process, host) adds its deltas, and every server's
 * report reads everyone's. See redis-layout.ts for the keys and the script.
 *
 * The request path never waits: `add` merges into memory; `flush` (every `flushInterval`) sends what
 * was added, in one script call. Each delta carries this process's id and a sequence number, checked
 * and recorded by the script that applies it: a delta whose reply was lost is sent again, unchanged,
 * and applied once. While Redis is unreachable, deltas are merged in memory (bounded like any
 * `StatsState`) and written when it is back; the log says so once, and again when it is back.
 */
export class RedisStore implements StatsStore {
  readonly kind = 'redis';
  readonly options: ResolvedRedisStoreOptions;
  /** The idempotency key's first half: the instance name and a random part (two processes never share one). */
  private readonly processId: string;
  private seq = 0;
  private context: StoreContext | undefined;
  private pending: StatsState = emptyState();
  private inflight: InFlight | null = null;
  private client: Client | null = null;
  private connecting: Promise<Client | null> | null = null;
  private nextAttempt = 0;
  private failing: string | null = null;
  /** A configuration error met at start: this store never writes. */
  private refusal: InvalidOptionError | null = null;
  private saltShared = false;
  private lastSavedAt: number | null = null;
  private lastSent = 0;
  private view: StatsState | null = null;
  private instances: InstanceStatus[] = [];
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: RedisStoreOptions) {
    this.options = resolveRedisStoreOptions(options);
    this.processId = `${this.options.instance}#${randomBytes(6).toString('hex')}`;
  }

  private get where(): string {
    return `${this.options.url.display} (key prefix ${this.options.keyPrefix})`;
  }

  async open(context: StoreContext): Promise<Buffer> {
    this.context = context;
    const client = await this.connection(true);
    if (this.refusal) throw this.refusal;
    if (!client) return context.salt;
    try {
      return (await this.shareSalt(client, context.salt)) ?? context.salt;
    } catch (error) {
      // Logged in, but refused the salt's key: an ACL that does not cover the key prefix.
      if (classify(error).kind === 'config') {
        client.destroy();
        this.client = null;
        throw this.refuse(classify(error).reason);
      }
      this.lost(client, error);
      return context.salt;
    }
  }

  add(delta: StatsState): void {
    if (isEmptyState(delta)) return;
    mergeState(this.pending, delta);
    // What is past the retention would expire in Redis at once: it need not wait in memory either.
    if (this.context && this.failing !== null) prune(this.pending, this.context.now(), this.context.retentionDays);
  }

  /** Sends what was added (and retries a delta whose reply was lost). Never rejects; failures show in `status()`. */
  flush(): Promise<void> {
    return this.queue(false);
  }

  /** Flushes in order; a report's flush does not try a connection that failed a moment ago (it would wait for it). */
  private queue(forRead: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.send(forRead));
    return this.chain;
  }

  /** Everyone's numbers: written first, then read back. While Redis is unreachable, the last read plus what waits here. */
  async read(): Promise<StatsState> {
    await this.queue(true);
    const client = this.client?.isReady ? this.client : null;
    if (client && this.context && !this.closed) {
      try {
        const { state, instances } = await this.readAll(client, this.context);
        this.view = state;
        this.instances = instances;
        return state;
      } catch (error) {
        this.lost(client, error);
      }
    }
    return this.localView();
  }

  status(): StorageStatus {
    return {
      store: this.kind,
      file: null,
      lastSavedAt: this.lastSavedAt === null ? null : new Date(this.lastSavedAt).toISOString(),
      error: this.refusal?.message ?? this.failing,
      location: this.where,
      instance: this.options.instance,
      instances: this.instances,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    const unsent = this.unsentRequests();
    if (unsent > 0) this.context?.warn(`legacy-tls-fallback: the Redis store ${this.where} is unreachable at shutdown; ${unsent} requests counted since it went away are lost.`);
    const client = this.client;
    this.client = null;
    if (client?.isOpen) await withTimeout(client.close(), this.options.commandTimeout, 'QUIT').catch(() => client.destroy());
    else client?.destroy();
  }

  // -------------------------------------------------------------------------------------------------

  private async send(forRead: boolean): Promise<void> {
    const context = this.context;
    if (!context || this.closed || this.refusal) return;
    const client = await this.connection(false, forRead);
    if (!client) return;
    if (!this.saltShared && (await this.shareSalt(client, context.salt).catch((error: unknown) => (this.lost(client, error), null))) === null) return;
    // First the delta whose answer was lost, as it was; then what came since, a few hours per script call
    // (the rounds are bounded: what is added meanwhile waits for the next flush if it does not fit).
    const rounds = 2 + Math.ceil((this.pending.hours.size + this.pending.days.size) / MAX_BUCKETS_PER_DELTA);
    for (let round = 0; round < rounds; round++) {
      if (!this.inflight) {
        const idle = isEmptyState(this.pending);
        if (idle && (round > 0 || Date.now() - this.lastSent < HEARTBEAT_MS)) return;
        prune(this.pending, context.now(), context.retentionDays);
        const state = takeChunk(this.pending, MAX_BUCKETS_PER_DELTA);
        const delta = encodeDelta(state, context.retentionDays);
        this.seq += 1;
        const args = [this.options.keyPrefix, this.processId, String(this.seq), this.options.instance, delta.header, ...delta.sketches];
        this.inflight = { seq: this.seq, args, state };
      }
      try {
        await this.applyDelta(client, this.inflight.args);
      } catch (error) {
        this.lost(client, error);
        return;
      }
      this.inflight = null;
      this.lastSent = Date.now();
      this.lastSavedAt = context.now();
      this.recovered();
    }
  }

  private async applyDelta(client: Client, args: RedisArgument[]): Promise<void> {
    const options = { timeout: this.options.commandTimeout };
    try {
      await client.sendCommand(['EVALSHA', APPLY_DELTA_SHA, '0', ...args], options);
    } catch (error) {
      // After a Redis restart the script cache is empty: the script did not run, so sending it whole is safe.
      if (!/^NOSCRIPT/.test((error as Error).message)) throw error;
      await client.sendCommand(['EVAL', APPLY_DELTA_SCRIPT, '0', ...args], options);
    }
  }

  /** The first salt written under the prefix wins; every process hashes visitors with it. */
  private async shareSalt(client: Client, ours: Buffer): Promise<Buffer | null> {
    const key = `${this.options.keyPrefix}salt`;
    const options = { timeout: this.options.commandTimeout, typeMapping: AS_BUFFERS };
    await client.sendCommand(['SET', key, ours.toString('base64'), 'NX'], options);
    const stored = (await client.sendCommand(['GET', key], options)) as Buffer | null;
    const salt = stored ? Buffer.from(stored.toString('latin1'), 'base64') : null;
    if (!salt || salt.length < 16) return null;
    this.saltShared = true;
    if (!salt.equals(ours)) this.context?.adoptSalt?.(salt);
    return salt;
  }

  private async readAll(client: Client, context: StoreContext) {
    const plan = readPlan(this.options.keyPrefix, context.now(), context.retentionDays);
    const options = { timeout: this.options.commandTimeout, typeMapping: AS_BUFFERS };
    // Sent in one go: the client pipelines commands issued in the same tick.
    const hgetall = (key: string) => client.sendCommand(['HGETALL', key], options).then(hashReply);
    const [totals, hours, days, seen, requests] = await Promise.all([
      hgetall(plan.totals),
      Promise.all(plan.hours.map(async (hour) => ({ counters: await hgetall(hour.counters), sketches: hour.sketches === null ? undefined : await hgetall(hour.sketches) }))),
      Promise.all(plan.days.map(async (day) => ({ counts: await hgetall(day.counts), sketches: await hgetall(day.sketches) }))),
      client.sendCommand(['ZRANGE', plan.seen, '0', '-1', 'REV', 'WITHSCORES'], options),
      hgetall(plan.requests),
    ]);
    const replies: ReadReplies = { totals, hours, days, seen, requests };
    return decodeState(plan, replies);
  }

  /**
   * A ready connection, made now if none is (for a report, not within RETRY_GAP_MS of a failure), or null.
   * At start (`first`), a configuration error becomes the refusal `open` rejects with.
   */
  private connection(first: boolean, respectGap = false): Promise<Client | null> {
    if (this.client?.isReady) return Promise.resolve(this.client);
    if (this.client) {
      this.client.destroy();
      this.client = null;
    }
    if (this.closed || this.refusal) return Promise.resolve(null);
    if (respectGap && Date.now() < this.nextAttempt) return Promise.resolve(null);
    this.connecting ??= this.connect(first).finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(first: boolean): Promise<Client | null> {
    const { url, connectTimeout } = this.options;
    let firstError: unknown;
    // Loaded here, not at import: the package's root entry must cost nothing to sites without Redis.
    const { createClient } = await import('@redis/client');
    const client = createClient({
      // RESP2: replies of the same shape on every Redis since 2.6 (a hash is a flat array).
      RESP: 2,
      socket: {
        host: url.host,
        port: url.port,
        connectTimeout,
        // Reconnection is this store's: a lost connection is replaced at the next flush.
        reconnectStrategy: false,
        ...(url.tls ? { tls: true as const, servername: url.host, ...this.options.tls } : {}),
      },
      ...(url.username !== undefined && { username: url.username }),
      ...(url.password !== undefined && { password: url.password }),
      database: url.database,
      // Commands fail at once while disconnected: what waits is kept here, bounded, not in the client's queue.
      disableOfflineQueue: true,
    }) as unknown as Client;
    client.on('error', (error: unknown) => {
      firstError ??= error;
    });
    try {
      await withTimeout(client.connect(), connectTimeout, 'connect and log in');
      this.client = client;
      return client;
    } catch (error) {
      client.destroy();
      this.nextAttempt = Date.now() + RETRY_GAP_MS;
      const cause = firstError ?? error;
      const { kind, reason } = classify(cause);
      if (first && kind === 'config') {
        this.refuse(reason);
        return null;
      }
      this.unreachable(reason);
      return null;
    }
  }

  /** A configuration error at start: this store never writes, and `open` rejects with what this returns. */
  private refuse(reason: string): InvalidOptionError {
    this.refusal = new InvalidOptionError('url', this.options.url.display, `it cannot be used: ${reason}. Check the host, port, user and password, and that the user's ACL allows the key prefix ${this.options.keyPrefix} and the commands the store needs (docs/report.md lists them)`);
    this.failing = reason;
    this.context?.warn(`legacy-tls-fallback: the Redis store ${this.where} cannot be used: ${reason}; counting stays in memory.`);
    return this.refusal;
  }

  /** A command failed: the connection is in an unknown state, so it goes; the delta in flight stays for a retry. */
  private lost(client: Client, error: unknown): void {
    if (this.client === client) this.client = null;
    client.destroy();
    // A read that was under way when close() let go of the connection.
    if (this.closed) return;
    this.nextAttempt = 0;
    this.unreachable(classify(error).reason);
  }

  private unreachable(reason: string): void {
    if (this.failing === null) {
      this.context?.warn(`legacy-tls-fallback: the Redis store ${this.where} is unreachable (${reason}); counting continues in memory and is written when it is back.`);
    }
    this.failing = reason;
  }

  private recovered(): void {
    if (this.failing === null) return;
    this.failing = null;
    this.context?.warn(`legacy-tls-fallback: the Redis store ${this.where} is reachable again; what was counted meanwhile is written.`);
  }

  /** The last numbers read from Redis, with what this process counted and has not written yet. */
  private localView(): StatsState {
    const context = this.context;
    const out = this.view ? copy(this.view) : emptyState();
    if (this.inflight) mergeState(out, copy(this.inflight.state));
    mergeState(out, copy(this.pending));
    if (context) prune(out, context.now(), context.retentionDays);
    return out;
  }

  private unsentRequests(): number {
    let n = 0;
    for (const state of [this.pending, this.inflight?.state]) state?.totals.requests.forEach((count) => (n += count));
    return n;
  }
}

/**
 * The oldest `max` hour buckets of `pending` (then, once no hour is left, day buckets), moved out; the
 * last chunk takes the totals too. What stays behind goes with the next call: each part is its own delta,
 * applied once.
 */
export function takeChunk(pending: StatsState, max: number): StatsState {
  if (pending.hours.size + pending.days.size <= max) {
    const all = { hours: pending.hours, days: pending.days, totals: pending.totals };
    Object.assign(pending, emptyState());
    return all;
  }
  const chunk = emptyState();
  const from = pending.hours.size > 0 ? 'hours' : 'days';
  const keys = [...pending[from].keys()].sort((a, b) => a - b).slice(0, max);
  for (const key of keys) {
    (chunk[from] as Map<number, unknown>).set(key, pending[from].get(key));
    pending[from].delete(key);
  }
  return chunk;
}

// Buckets are handed over by reference when merged: a copy keeps the original apart.
function copy(state: StatsState): StatsState {
  return fromDocument(toDocument(state, Buffer.alloc(16), 0)).state;
}

/**
 * A store shared by every server of a site: `new TrafficStats({ store: redisStore({ url }) })`. Options
 * are checked here; the connection is made when `TrafficStats` opens the store.
 */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
