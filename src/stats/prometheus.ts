import { Counter, Registry } from 'prom-client';
import type { StatsSource } from './traffic-stats.js';

/**
 * Prometheus counters read from the stats' all-time totals at scrape time, so they survive restarts
 * (the totals are persisted) and every worker's traffic shows in one place. Label values come from
 * closed sets only: protocol (5), legacy (2), kind (4), action (6), resumed (2), reason (7).
 */
export function registerLegacyTlsMetrics(stats: Pick<StatsSource, 'snapshot'>, registry: Registry = new Registry()): Registry {
  // A second report on the same registry must not throw "already registered": reuse what is there.
  if (registry.getSingleMetric('legacy_tls_requests_total')) return registry;
  const snapshot = () => stats.snapshot().totals;

  new Counter({
    name: 'legacy_tls_requests_total',
    help: 'Requests seen by the legacy-TLS middleware, by negotiated protocol, legacy verdict, client kind and action taken.',
    labelNames: ['protocol', 'legacy', 'kind', 'action'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, value] of snapshot().requests) {
        const [protocol = '', legacy = '', kind = '', action = ''] = key.split('|');
        this.inc({ protocol, legacy, kind, action }, value);
      }
    },
  });

  new Counter({
    name: 'legacy_tls_handshakes_total',
    help: 'Completed TLS handshakes, by protocol and whether the session was resumed.',
    labelNames: ['protocol', 'resumed'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, value] of snapshot().handshakes) {
        const [protocol = '', resumed = ''] = key.split('|');
        this.inc({ protocol, resumed }, value);
      }
    },
  });

  new Counter({
    name: 'legacy_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by normalised reason: clients lost before HTTP.',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, value] of snapshot().failures) this.inc({ reason }, value);
    },
  });

  new Counter({
    name: 'legacy_tls_upstream_errors_total',
    help: 'Responses the standalone proxy made itself because the upstream failed (502) or did not answer in time (504).',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, value] of snapshot().upstreamErrors) this.inc({ status }, value);
    },
  });

  return registry;
}
