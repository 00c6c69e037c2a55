/**
 * Legacy clients of a log by kind, so that the summary lists browsers (people) apart from bots and
 * libraries: the report's top-clients table mixes them, and in real logs the legacy-TLS traffic of
 * scrapers and old HTTP libraries easily outweighs the people's and would push them off a shared list.
 */
import { CLIENT_SKETCH_PRECISION } from '../stats/model.js';
import { HyperLogLog } from '../stats/hyperloglog.js';
import { OTHER, parseClientLabel } from '../stats/labels.js';
import type { ClientKind } from '../types.js';

/** Labels tracked per kind; when full, the lighter half is folded into `other` (a made-up stream cannot crowd out real clients for long). */
const MAX_PER_KIND = 1024;

interface Entry {
  requests: number;
  visitors: HyperLogLog;
}

export interface LegacyClientRow {
  kind: ClientKind;
  browser: string;
  version: string;
  os: string;
  requests: number;
  /** Approximate distinct visitors (address + user agent), ±6.5 %. */
  visitors: number;
}

export class LegacyClients {
  readonly #kinds = new Map<ClientKind, Map<string, Entry>>();

  /** Counts one legacy request of a client (`label`: the stats' client label) by a visitor (its hash). */
  add(kind: ClientKind, label: string, visitor: Uint8Array): void {
    let labels = this.#kinds.get(kind);
    if (labels === undefined) {
      labels = new Map();
      this.#kinds.set(kind, labels);
    }
    let entry = labels.get(label);
    if (entry === undefined) {
      if (labels.size >= MAX_PER_KIND) this.#fold(labels);
      entry = labels.get(label);
      if (entry === undefined) {
        entry = { requests: 0, visitors: new HyperLogLog(CLIENT_SKETCH_PRECISION) };
        labels.set(label, entry);
      }
    }
    entry.requests++;
    entry.visitors.add(visitor);
  }

  /** The heaviest clients of these kinds, `other` last when it is among them. */
  top(kinds: readonly ClientKind[], count: number): LegacyClientRow[] {
    const rows: LegacyClientRow[] = [];
    for (const kind of kinds) {
      for (const [label, entry] of this.#kinds.get(kind) ?? []) {
        const parsed = parseClientLabel(label);
        rows.push({
          kind,
          browser: parsed.browser,
          version: label === OTHER ? '' : (parsed.version ?? '?'),
          os: label === OTHER ? '' : (parsed.os ?? '?'),
          requests: entry.requests,
          visitors: Math.min(entry.requests, entry.visitors.count()),
        });
      }
    }
    return rows.sort((a, b) => b.requests - a.requests || a.browser.localeCompare(b.browser)).slice(0, count);
  }

  #fold(labels: Map<string, Entry>): void {
    const other = labels.get(OTHER) ?? { requests: 0, visitors: new HyperLogLog(CLIENT_SKETCH_PRECISION) };
    const lightest = [...labels].filter(([label]) => label !== OTHER).sort((a, b) => a[1].requests - b[1].requests).slice(0, MAX_PER_KIND / 2);
    for (const [label, entry] of lightest) {
      other.requests += entry.requests;
      other.visitors.merge(entry.visitors);
      labels.delete(label);
    }
    labels.set(OTHER, other);
  }
}
