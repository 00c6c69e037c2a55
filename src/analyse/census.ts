/**
 * Connections by the highest TLS version each one offered, from nginx `stream` logs with
 * `$ssl_preread_protocol` (`connection` records): the census of a router deployment, where every
 * connection is logged whether or not it ever reaches a server, so a minimum version's cost is known
 * exactly, in connections rather than requests.
 *
 * Kept apart from the stats model on purpose: the ClientHello census of the live server (issue 14)
 * holds the same figure for connections it sees itself. When it lands, `ConnectionCensus.forEachHour`
 * is what feeds it; until then the figures go into the analysis document and the summary.
 */
import { HOUR_MS, hourStart } from '../stats/model.js';
import { ratio } from '../report/document.js';
import type { LogProtocol } from './types.js';

/** What a connection offered at most; `none`: it sent no ClientHello the router could read (a port probe, plain HTTP). */
export type OfferedVersion = LogProtocol | 'none';
export const OFFERED_VERSIONS: readonly OfferedVersion[] = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'none'];
const INDEX: ReadonlyMap<OfferedVersion, number> = new Map(OFFERED_VERSIONS.map((version, i) => [version, i]));
const NONE = OFFERED_VERSIONS.length - 1;

/** Offered versions a minimum of TLS 1.2 / 1.3 turns away. */
const BELOW = { 'TLSv1.2': ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1'], 'TLSv1.3': ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'] } as const;

export interface CensusWhatIf {
  minimum: 'TLSv1.2' | 'TLSv1.3';
  /** Connections that offered nothing at or above the minimum: turned away at the handshake. */
  connections: number;
  /** Of the connections that offered TLS at all (`none` left out). */
  share: number;
}

export interface CensusWindow {
  from: string;
  to: string;
  connections: number;
  byOffered: Record<OfferedVersion, number>;
  whatIf: CensusWhatIf[];
}

export class ConnectionCensus {
  /** Hour start → connections by OFFERED_VERSIONS index. Bounded by the log's span (see prune). */
  readonly #hours = new Map<number, Float64Array>();
  #lastHour = Number.NaN;
  #last: Float64Array | null = null;
  #total = 0;

  get total(): number {
    return this.#total;
  }

  add(time: number, offered: LogProtocol | null): void {
    const hour = hourStart(time);
    let counts = this.#last;
    if (hour !== this.#lastHour || counts === null) {
      counts = this.#hours.get(hour) ?? null;
      if (counts === null) {
        counts = new Float64Array(OFFERED_VERSIONS.length);
        this.#hours.set(hour, counts);
      }
      this.#lastHour = hour;
      this.#last = counts;
    }
    const index = offered === null ? NONE : (INDEX.get(offered) ?? NONE);
    counts[index] = (counts[index] as number) + 1;
    this.#total++;
  }

  /** Drops the hours before `oldest` (ms), as the stats drop theirs. */
  prune(oldest: number): void {
    for (const hour of this.#hours.keys()) if (hour < oldest) this.#hours.delete(hour);
    this.#last = null;
  }

  /** Every hour's counts, oldest first: what a census model takes over. */
  forEachHour(visit: (hour: number, counts: Readonly<Record<OfferedVersion, number>>) => void): void {
    for (const hour of [...this.#hours.keys()].sort((a, b) => a - b)) visit(hour, this.#record(this.#hours.get(hour) as Float64Array));
  }

  /** The hours from `from`'s to `to`'s (ms), inclusive: the same hours a report window sums. */
  window(from: number, to: number): CensusWindow {
    const first = hourStart(from);
    const last = hourStart(to);
    const sums = new Float64Array(OFFERED_VERSIONS.length);
    for (const [hour, counts] of this.#hours) {
      if (hour < first || hour > last) continue;
      for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] as number) + (counts[i] as number);
    }
    const byOffered = this.#record(sums);
    const connections = sums.reduce((a, b) => a + b, 0);
    const tls = connections - byOffered.none;
    const whatIf = (['TLSv1.2', 'TLSv1.3'] as const).map((minimum): CensusWhatIf => {
      const turned = BELOW[minimum].reduce((sum, version) => sum + byOffered[version], 0);
      return { minimum, connections: turned, share: ratio(turned, tls) };
    });
    return { from: new Date(first).toISOString(), to: new Date(last + HOUR_MS).toISOString(), connections, byOffered, whatIf };
  }

  #record(counts: Float64Array): Record<OfferedVersion, number> {
    return Object.fromEntries(OFFERED_VERSIONS.map((version, i) => [version, counts[i] as number])) as Record<OfferedVersion, number>;
  }
}
