/**
 * The user agents of a log, each distinct one classified once, by the live path's own code.
 *
 * A log of ten million lines may hold a million distinct user agents, most of them seen a few times
 * over weeks: a cache of strings that holds them all would cost hundreds of megabytes, and one that
 * holds a few thousand misses nearly every time. So a user agent is reduced to a 64-bit keyed hash
 * (SipHash-1-3 under a random key: nobody can make two user agents collide on purpose) and a table of
 * typed arrays maps the hash to a *profile*: what the classification made of it (kind, legacy by user
 * agent, client and OS labels). Profiles are few (thousands at most) and carry the counting labels,
 * built once per protocol with `classifyClientInfo` and the stats counter's `labelsOf`. A line then
 * costs one hash and one table probe.
 */
import { randomBytes } from 'node:crypto';
import { classifyClientInfo, isLegacyClient } from '../classify/classify.js';
import type { ClassificationPolicy } from '../classify/policy.js';
import { MAX_USER_AGENT_LENGTH, parseUserAgent } from '../classify/user-agent.js';
import { labelsOf, type CachedLabels } from '../stats/counter.js';
import { clientLabel, osLabel } from '../stats/labels.js';
import type { ClientInfo, TlsFacts, TlsProtocol, Verdict } from '../types.js';
import { detach } from './record.js';
import type { LogProtocol } from './types.js';

/** The protocol of a record as an index, so that labels are found by array index, not by string. */
export enum Slot {
  TLSv1,
  TLSv1_1,
  TLSv1_2,
  TLSv1_3,
  None,
  SSLv3,
  SSLv2,
}
export const SLOT_COUNT = 7;
export const SLOT_NAMES: readonly (LogProtocol | 'none')[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'none', 'SSLv3', 'SSLv2'];
const SLOT_TLS: readonly (TlsProtocol | null)[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', null, null, null];

export function slotOf(protocol: LogProtocol | null): Slot {
  switch (protocol) {
    case 'TLSv1.3':
      return Slot.TLSv1_3;
    case 'TLSv1.2':
      return Slot.TLSv1_2;
    case 'TLSv1.1':
      return Slot.TLSv1_1;
    case 'TLSv1':
      return Slot.TLSv1;
    case 'SSLv3':
      return Slot.SSLv3;
    case 'SSLv2':
      return Slot.SSLv2;
    default:
      return Slot.None;
  }
}

/**
 * The verdict on a log line, by the live path's classification. SSL 3 and 2 are no `TlsProtocol`
 * (the facts say `null`, as for no TLS), but they are older than any legacy TLS version: legacy by
 * protocol whatever the policy, which a server logging them would agree with.
 */
export function verdictOf(slot: Slot, client: ClientInfo, policy: ClassificationPolicy): Verdict {
  const facts: TlsFacts = { protocol: SLOT_TLS[slot] ?? null, cipher: null, servername: null, source: 'log' };
  const verdict = classifyClientInfo(facts, client, policy);
  if ((slot === Slot.SSLv3 || slot === Slot.SSLv2) && !verdict.reasons.includes('tls-version')) {
    return { ...verdict, legacy: true, reasons: ['tls-version', ...verdict.reasons] };
  }
  return verdict;
}

/** What the classification made of one or more user agents: everything the counting labels depend on. */
export class Profile {
  readonly client: ClientInfo;
  readonly uaLegacy: boolean;
  readonly #policy: ClassificationPolicy;
  readonly #labels: (CachedLabels | undefined)[] = new Array<CachedLabels | undefined>(SLOT_COUNT).fill(undefined);

  constructor(client: ClientInfo, uaLegacy: boolean, policy: ClassificationPolicy) {
    this.client = client;
    this.uaLegacy = uaLegacy;
    this.#policy = policy;
  }

  /**
   * The labels a line with this protocol is counted under: as the middleware in `observe` mode would
   * count it. One object per profile and protocol; its `pending` is the counter's to use.
   */
  labels(slot: Slot): CachedLabels {
    let labels = this.#labels[slot];
    if (labels === undefined) {
      const verdict = verdictOf(slot, this.client, this.#policy);
      labels = labelsOf(verdict, verdict.legacy ? 'observed' : 'passed');
      this.#labels[slot] = labels;
    }
    return labels;
  }
}

/** Distinct profiles kept; past it, a new one is built for each line that needs it (correct, slower, bounded). */
export const MAX_PROFILES = 65_536;
/** Slots of the user-agent table: 2^21 (24 MiB), enough for 1.5 million distinct user agents before it starts over. */
const TABLE_BITS = 21;
const MAX_LOAD = 0.72;

/**
 * Recent distinct user agents kept as strings, per generation (two generations: up to twice as many).
 * Small on purpose: real logs repeat a few thousand agents most, and each entry that ages out is old-space
 * garbage; on a log of a million lines with 250 000 agents at random, 16 384 cost 45 MiB more peak RSS
 * and more CPU than 2 048 (bench notes in the report).
 */
const RECENT_AGENTS = 2048;

interface Recent {
  profile: Profile;
  /** The user agent's hash: the counter hashes its visitors under it. */
  hi: number;
  lo: number;
}

export interface AgentStats {
  /** Lines whose user agent was classified (a cache miss, or no user agent at all counted once). */
  classified: number;
  /** Distinct profiles. */
  profiles: number;
  /** Times the table was full and started over. */
  resets: number;
}

/**
 * user agent → Profile, for a whole log. Bounded: the table has a fixed size (it starts over when 72 %
 * full), profiles are capped at MAX_PROFILES.
 */
export class AgentProfiles {
  readonly #policy: ClassificationPolicy;
  /** Profile key (see #profileOf) → index in #profiles. */
  readonly #byKey = new Map<string, number>();
  readonly #profiles: Profile[] = [];
  readonly #hash: StringHash;
  /**
   * Slot i is `[3i]` the hash's high half, `[3i + 1]` its low half, `[3i + 2]` the profile index + 1
   * (0: empty): a probe reads one cache line, not three arrays.
   */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #limit: number;
  #size = 0;
  readonly #none: Profile;
  /**
   * The recent distinct user agents themselves, in two generations of RECENT_AGENTS: a Map lookup
   * hashes and compares the string in C++, cheaper than any hash written in JavaScript, so the agents a
   * log repeats most never reach the table. Keys are copies, so that they keep no line alive.
   */
  #recent = new Map<string, Recent>();
  #older = new Map<string, Recent>();
  readonly stats: AgentStats = { classified: 0, profiles: 0, resets: 0 };

  /**
   * The hash of the user agent of the last `get` (0, 0 for none): the counter hashes visitors with it.
   * Keyed by `key`, so that the same salt gives the same hashes in every run (and every process).
   */
  agentHi = 0;
  agentLo = 0;

  constructor(policy: ClassificationPolicy, key: Uint8Array = randomBytes(16), tableBits = TABLE_BITS) {
    this.#policy = policy;
    this.#hash = new StringHash(key);
    const size = 1 << tableBits;
    this.#table = new Int32Array(size * 3);
    this.#mask = size - 1;
    this.#limit = Math.floor(size * MAX_LOAD);
    this.#none = this.#profileOf(null).profile;
  }

  /** The profile of `userAgent` (`null`: the line has none). */
  get(userAgent: string | null): Profile {
    if (userAgent === null) {
      this.agentHi = 0;
      this.agentLo = 0;
      return this.#none;
    }
    const agent = userAgent.length > MAX_USER_AGENT_LENGTH ? userAgent.slice(0, MAX_USER_AGENT_LENGTH) : userAgent;
    let recent = this.#recent.get(agent);
    if (recent === undefined) {
      recent = this.#older.get(agent);
      if (recent === undefined) recent = this.#lookup(agent);
      if (this.#recent.size >= RECENT_AGENTS) {
        this.#older = this.#recent;
        this.#recent = new Map();
      }
      this.#recent.set(detach(agent), recent);
    }
    this.agentHi = recent.hi;
    this.agentLo = recent.lo;
    return recent.profile;
  }

  /** The table's answer for a user agent (cut to MAX_USER_AGENT_LENGTH), classifying it when new. */
  #lookup(userAgent: string): Recent {
    this.#hash.hash(userAgent, userAgent.length);
    const hi = this.#hash.hi;
    const lo = this.#hash.lo;
    const mask = this.#mask;
    const table = this.#table;
    let at = (lo & mask) * 3;
    for (let value = table[at + 2] as number; value !== 0; value = table[at + 2] as number) {
      if (table[at + 1] === lo && table[at] === hi) return { profile: this.#profiles[value - 1] as Profile, hi, lo };
      at = at + 3 > mask * 3 ? 0 : at + 3;
    }
    const { profile, index } = this.#profileOf(userAgent);
    if (index !== -1) {
      if (this.#size >= this.#limit) {
        // Start over rather than evict one by one: the table stays a plain array, and the agents that
        // come back are classified once more.
        table.fill(0);
        this.#size = 0;
        this.stats.resets++;
        at = (lo & mask) * 3;
      }
      table[at] = hi;
      table[at + 1] = lo;
      table[at + 2] = index + 1;
      this.#size++;
    }
    return { profile, hi, lo };
  }

  /**
   * Classifies a user agent and finds its shared profile: the one with the same kind, legacy-by-agent,
   * client label and OS label, which are all the counting labels read. Index -1: the profiles are full
   * and this one is the line's own.
   */
  #profileOf(userAgent: string | null): { profile: Profile; index: number } {
    this.stats.classified++;
    const client = parseUserAgent(userAgent);
    const uaLegacy = isLegacyClient(client, this.#policy);
    const key = `${client.kind}|${uaLegacy ? 1 : 0}|${clientLabel(client.browser, client.version, client.os)}|${client.os === null ? '' : osLabel(client.os)}`;
    const known = this.#byKey.get(key);
    if (known !== undefined) return { profile: this.#profiles[known] as Profile, index: known };
    const profile = new Profile(client, uaLegacy, this.#policy);
    if (this.#profiles.length >= MAX_PROFILES) return { profile, index: -1 };
    this.#byKey.set(key, this.#profiles.length);
    this.#profiles.push(profile);
    this.stats.profiles = this.#profiles.length;
    return { profile, index: this.#profiles.length - 1 };
  }
}

/**
 * SipHash-1-3 (the variant Rust's HashMap uses against hash flooding) over a string's first `length`
 * characters, read in place: 8 characters a block when all are Latin-1, else 4 (16 bits each, told
 * apart by the key). The result is in `hi` and `lo`, not an allocation. A `tweak` is folded into the
 * key's first half: one instance then hashes a pair (the address under the user agent's hash) for the
 * price of the short part. The block round and the finalisation rounds are written out separately: one
 * loop for both (as in stats/siphash.ts) measured 6-7 % slower on 2 M user agents. Tested against a
 * plain SipHash in test/string-hash.test.ts.
 */
export class StringHash {
  hi = 0;
  lo = 0;
  readonly #k0h: number;
  readonly #k0l: number;
  readonly #k1h: number;
  readonly #k1l: number;

  constructor(key: Uint8Array) {
    const view = new DataView(key.buffer, key.byteOffset, 16);
    this.#k0l = view.getInt32(0, true);
    this.#k0h = view.getInt32(4, true);
    this.#k1l = view.getInt32(8, true);
    this.#k1h = view.getInt32(12, true);
  }

  hash(text: string, length: number, tweakHi = 0, tweakLo = 0): void {
    if (!this.#run(text, length, false, tweakHi, tweakLo)) this.#run(text, length, true, tweakHi, tweakLo);
  }

  /** One pass; false when a character above U+00FF turned up in the 8-bit pass. */
  #run(text: string, length: number, wide: boolean, tweakHi: number, tweakLo: number): boolean {
    const k0h = this.#k0h ^ tweakHi;
    const k0l = this.#k0l ^ tweakLo;
    let v0h = (k0h ^ 0x736f6d65) | 0;
    let v0l = (k0l ^ 0x70736575) | 0;
    let v1h = (this.#k1h ^ 0x646f7261) | 0;
    let v1l = (this.#k1l ^ 0x6e646f6d ^ (wide ? 0xee : 0)) | 0;
    let v2h = (k0h ^ 0x6c796765) | 0;
    let v2l = (k0l ^ 0x6e657261) | 0;
    let v3h = (this.#k1h ^ 0x74656462) | 0;
    let v3l = (this.#k1l ^ 0x79746573) | 0;
    const perBlock = wide ? 4 : 8;
    const bytes = wide ? length * 2 : length;
    let seen = 0;
    let t: number;
    for (let at = 0; at <= length; at += perBlock) {
      let ml: number;
      let mh: number;
      const last = at + perBlock > length;
      if (wide) {
        const c0 = at < length ? text.charCodeAt(at) : 0;
        const c1 = at + 1 < length ? text.charCodeAt(at + 1) : 0;
        const c2 = at + 2 < length ? text.charCodeAt(at + 2) : 0;
        const c3 = at + 3 < length ? text.charCodeAt(at + 3) : 0;
        ml = c0 | (c1 << 16);
        mh = c2 | (c3 << 16);
      } else if (!last) {
        const c0 = text.charCodeAt(at);
        const c1 = text.charCodeAt(at + 1);
        const c2 = text.charCodeAt(at + 2);
        const c3 = text.charCodeAt(at + 3);
        const c4 = text.charCodeAt(at + 4);
        const c5 = text.charCodeAt(at + 5);
        const c6 = text.charCodeAt(at + 6);
        const c7 = text.charCodeAt(at + 7);
        seen |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7;
        ml = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
        mh = c4 | (c5 << 8) | (c6 << 16) | (c7 << 24);
      } else {
        ml = 0;
        mh = 0;
        for (let i = at; i < length; i++) {
          const c = text.charCodeAt(i);
          seen |= c;
          const shift = ((i - at) & 3) * 8;
          if (i - at < 4) ml |= c << shift;
          else mh |= c << shift;
        }
      }
      if (last) mh = (mh & 0x00ffffff) | ((bytes & 0xff) << 24);
      v3l = (v3l ^ ml) | 0;
      v3h = (v3h ^ mh) | 0;
      // One SipRound (c = 1).
      t = (v0l + v1l) | 0; v0h = (v0h + v1h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
      t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
      v1h = (v1h ^ v0h) | 0; v1l = (v1l ^ v0l) | 0;
      t = v0h; v0h = v0l; v0l = t;
      t = (v2l + v3l) | 0; v2h = (v2h + v3h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
      t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
      v3h = (v3h ^ v2h) | 0; v3l = (v3l ^ v2l) | 0;
      t = (v0l + v3l) | 0; v0h = (v0h + v3h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
      t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
      v3h = (v3h ^ v0h) | 0; v3l = (v3l ^ v0l) | 0;
      t = (v2l + v1l) | 0; v2h = (v2h + v1h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
      t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
      v1h = (v1h ^ v2h) | 0; v1l = (v1l ^ v2l) | 0;
      t = v2h; v2h = v2l; v2l = t;
      v0l = (v0l ^ ml) | 0;
      v0h = (v0h ^ mh) | 0;
      if (last) break;
    }
    if (!wide && seen > 0xff) return false;
    v2l = (v2l ^ 0xff) | 0;
    for (let round = 0; round < 3; round++) {
      t = (v0l + v1l) | 0; v0h = (v0h + v1h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
      t = ((v1h << 13) | (v1l >>> 19)) | 0; v1l = ((v1l << 13) | (v1h >>> 19)) | 0; v1h = t;
      v1h = (v1h ^ v0h) | 0; v1l = (v1l ^ v0l) | 0;
      t = v0h; v0h = v0l; v0l = t;
      t = (v2l + v3l) | 0; v2h = (v2h + v3h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
      t = ((v3h << 16) | (v3l >>> 16)) | 0; v3l = ((v3l << 16) | (v3h >>> 16)) | 0; v3h = t;
      v3h = (v3h ^ v2h) | 0; v3l = (v3l ^ v2l) | 0;
      t = (v0l + v3l) | 0; v0h = (v0h + v3h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
      t = ((v3h << 21) | (v3l >>> 11)) | 0; v3l = ((v3l << 21) | (v3h >>> 11)) | 0; v3h = t;
      v3h = (v3h ^ v0h) | 0; v3l = (v3l ^ v0l) | 0;
      t = (v2l + v1l) | 0; v2h = (v2h + v1h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
      t = ((v1h << 17) | (v1l >>> 15)) | 0; v1l = ((v1l << 17) | (v1h >>> 15)) | 0; v1h = t;
      v1h = (v1h ^ v2h) | 0; v1l = (v1l ^ v2l) | 0;
      t = v2h; v2h = v2l; v2l = t;
    }
    this.lo = (v0l ^ v1l ^ v2l ^ v3l) | 0;
    this.hi = (v0h ^ v1h ^ v2h ^ v3h) | 0;
    return true;
  }
}
