/**
 * Log records into the live path's numbers: each request is counted with `recordRequest` under the
 * labels the stats counter gives the verdict (see agents.ts), at the record's own time; each failed
 * handshake with `recordHandshakeFailure`; each stream connection in the census.
 *
 * Not the StatsCounter itself: it reuses a visitor hash and labels per connection, and a log has no
 * connections (one user agent's lines come from many addresses, interleaved), so it would rebuild both
 * for nearly every line. Here labels are per profile and protocol.
 *
 * A visitor is, as on the live path, address + user agent under the salt, hashed in two steps: the
 * user agent's hash (which finds its profile) then the address under it. Hashing the whole pair again
 * for every line cost a fifth of the run. The visitor sketches are the same kind of sketch of the same
 * pairs, so they unite with live ones; the hashes differ from the live path's, so a visitor seen by
 * both, in the same day, counts twice in that day once merged.
 */
import type { ClassificationPolicy } from '../classify/policy.js';
import type { CachedLabels } from '../stats/counter.js';
import { emptyState, HOUR_MS, hourStart, prune, recordHandshakeFailure, recordRequest, recordVisitor, DAY_MS, type StatsState } from '../stats/model.js';
import { AgentProfiles, SLOT_COUNT, slotOf, StringHash } from './agents.js';
import { ConnectionCensus } from './census.js';
import { LegacyClients } from './clients.js';
import type { LogRecord } from './types.js';

/** Batches (of about a megabyte each) between two prunes when the latest time does not move. */
const PRUNE_EVERY_BATCHES = 256;

export class LogCounter {
  readonly state: StatsState = emptyState();
  readonly agents: AgentProfiles;
  readonly census = new ConnectionCensus();
  readonly clients = new LegacyClients();
  /** Requests by protocol as logged (`SLOT_NAMES` order): SSL 3 and 2 apart, which the stats label `none`. */
  readonly byLogged = new Float64Array(SLOT_COUNT);
  requests = 0;
  requestsWithUserAgent = 0;
  connections = 0;
  failures = 0;
  /** Earliest and latest record time counted (ms); ±Infinity before the first. */
  from = Infinity;
  to = -Infinity;
  readonly #visitors: StringHash;
  readonly #spanDays: number;
  #lastAddress: string | null = null;
  #lastHi = Number.NaN;
  #lastLo = 0;
  /** One buffer for every line's visitor hash: the sketches read it and keep nothing. */
  readonly #visitor = new Uint8Array(8);
  #prunedHour = -Infinity;
  #batches = 0;
  /** Labels with requests counted on them (`pending`) but not yet in the state, all of hour #pendingHour. */
  readonly #pending: CachedLabels[] = [];
  #pendingHour = Number.NaN;

  /** `salt`: the visitor salt, at least 16 bytes (a stats store's, when the counts are to join it). */
  constructor(policy: ClassificationPolicy, salt: Buffer, spanDays: number) {
    if (salt.length < 16) throw new RangeError('the visitor salt must have at least 16 bytes');
    const visitorKey = salt.subarray(0, 16);
    // The user agents get the salt's second half, or, for a short salt, its first half made different.
    const agentKey = salt.length >= 32 ? salt.subarray(16, 32) : Buffer.from(visitorKey.map((byte) => byte ^ 0x5c));
    this.agents = new AgentProfiles(policy, agentKey);
    this.#visitors = new StringHash(visitorKey);
    this.#spanDays = spanDays;
  }

  count(record: LogRecord): void {
    const time = record.time;
    if (time < this.from) this.from = time;
    if (time > this.to) this.to = time;
    if (record.kind === 'request') {
      const agent = record.userAgent;
      const slot = slotOf(record.protocol);
      const labels = this.agents.get(agent).labels(slot);
      const visitor = this.#visitorOf(record.address);
      if (labels.legacy) {
        recordRequest(this.state, time, labels, visitor);
        if (labels.client !== null) this.clients.add(labels.kind, labels.client, visitor);
      } else {
        // Most lines: the visitor goes into the sketches now, the request is counted in bulk per hour.
        recordVisitor(this.state, time, labels, visitor);
        const hour = time - (time % HOUR_MS);
        if (hour !== this.#pendingHour) this.flush(hour);
        if (labels.pending === 0) this.#pending.push(labels);
        labels.pending++;
      }
      this.byLogged[slot] = (this.byLogged[slot] as number) + 1;
      this.requests++;
      if (agent !== null) this.requestsWithUserAgent++;
    } else if (record.kind === 'connection') {
      this.census.add(time, record.protocol);
      this.connections++;
    } else {
      recordHandshakeFailure(this.state, time, record.failureReason ?? 'other');
      this.failures++;
    }
  }

  /**
   * Called after each batch: keeps memory bounded by the log's span. Hours more than `spanDays` before
   * the latest line go (their requests stay in the all-time totals), and hourly visitor sketches older
   * than two days, as the live stats drop theirs. Out-of-order inputs (newest file first) are pruned
   * every PRUNE_EVERY_BATCHES batches as well.
   */
  afterBatch(): void {
    this.#batches++;
    if (this.to === -Infinity) return;
    const hour = hourStart(this.to);
    if (hour < this.#prunedHour + DAY_MS && this.#batches % PRUNE_EVERY_BATCHES !== 0) return;
    this.prune();
  }

  /** Puts the requests counted in bulk into the state; `hour` is the hour counted from now on. */
  flush(hour = Number.NaN): void {
    for (const labels of this.#pending) {
      recordRequest(this.state, this.#pendingHour, labels, null, labels.pending);
      labels.pending = 0;
    }
    this.#pending.length = 0;
    this.#pendingHour = hour;
  }

  prune(): void {
    this.flush();
    if (this.to === -Infinity) return;
    this.#prunedHour = hourStart(this.to);
    prune(this.state, this.to, this.#spanDays);
    this.census.prune(this.#prunedHour - this.#spanDays * DAY_MS);
  }

  /** The visitor hash of `address` and the user agent `agents.get` just looked up; unchanged for a run of one visitor's lines. */
  #visitorOf(address: string | null): Uint8Array {
    const hi = this.agents.agentHi;
    const lo = this.agents.agentLo;
    const out = this.#visitor;
    if (address === this.#lastAddress && hi === this.#lastHi && lo === this.#lastLo) return out;
    const text = address ?? '';
    const hash = this.#visitors;
    hash.hash(text, text.length, hi, lo);
    const h = hash.hi;
    const l = hash.lo;
    out[0] = h >>> 24;
    out[1] = h >>> 16;
    out[2] = h >>> 8;
    out[3] = h;
    out[4] = l >>> 24;
    out[5] = l >>> 16;
    out[6] = l >>> 8;
    out[7] = l;
    this.#lastAddress = address;
    this.#lastHi = hi;
    this.#lastLo = lo;
    return out;
  }
}
