import { Counter, Registry } from 'prom-client';
import type { StatsSource } from '../../stats/types.js';
import { buildTotals, type Totals } from '../document.js';

/**
 * Prometheus counters, read at scrape time from the report document's all-time totals, so they survive
 * restarts (the totals are stored) and every worker's traffic shows in one place. Label values come
 * from closed sets only: protocol (5), legacy (2), kind (4), action (7), resumed (2), reason (7), offered (9).
 */
export function registerLegacyTlsMetrics(stats: Pick<StatsSource, 'snapshot'>, registry: Registry = new Registry()): Registry {
  // A second report on the same registry must not throw "already registered": reuse what is there.
  if (registry.getSingleMetric('legacy_tls_requests_total')) return registry;
  // One read of the stats per scrape, shared by the four counters (prom-client collects them in one go).
  let scrape: Totals | undefined;
  const totals = (): Totals => {
    if (!scrape) {
      scrape = buildTotals(stats.snapshot());
      queueMicrotask(() => (scrape = undefined));
    }
    return scrape;
  };
  const flag = (value: boolean) => (value ? 'true' : 'false');

  new Counter({
    name: 'legacy_tls_requests_total',
    help: 'Requests seen by the legacy-TLS middleware, by negotiated protocol, legacy verdict, client kind and action taken.',
    labelNames: ['protocol', 'legacy', 'kind', 'action'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of totals().requests) this.inc({ protocol: row.protocol, legacy: flag(row.legacy), kind: row.kind, action: row.action }, row.count);
    },
  });

  new Counter({
    name: 'legacy_tls_handshakes_total',
    help: 'Completed TLS handshakes, by protocol and whether the session was resumed.',
    labelNames: ['protocol', 'resumed'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of totals().handshakes) this.inc({ protocol: row.protocol, resumed: flag(row.resumed) }, row.count);
    },
  });

  new Counter({
    name: 'legacy_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by normalised reason: clients lost before HTTP.',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(totals().handshakeFailures)) if (n > 0) this.inc({ reason }, n);
    },
  });

  new Counter({
    name: 'legacy_tls_upstream_errors_total',
    help: 'Responses the standalone proxy made itself because the upstream failed (502) or did not answer in time (504).',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(totals().upstreamErrors)) if (n > 0) this.inc({ status }, n);
    },
  });

  new Counter({
    name: 'legacy_tls_client_hellos_total',
    help: 'Connections by the highest TLS version their ClientHello offered, or not-tls, unreadable, no-hello (the ClientHello census).',
    labelNames: ['offered'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [offered, n] of Object.entries(totals().offered)) if (n > 0) this.inc({ offered }, n);
    },
  });

  return registry;
}
