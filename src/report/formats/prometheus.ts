import { Counter, Gauge, Registry } from 'prom-client';
import type { StatsSource } from '../../stats/types.js';
import { buildTotals, type Totals } from '../document.js';
import { DEFAULT_READINESS } from '../options.js';
import { buildSites, type ReadinessSettings, type SitesReport } from '../sites.js';

/**
 * Prometheus counters, read at scrape time from the report document's all-time totals, so they survive
 * restarts (the totals are stored) and every worker's traffic shows in one place. Label values come
 * from closed sets only: protocol (5), legacy (2), kind (4), action (7), resumed (2), reason (7), offered (9).
 */
export function registerLegacyTlsMetrics(stats: Pick<StatsSource, 'snapshot'> & Partial<StatsSource>, registry: Registry = new Registry(), options: { readiness?: ReadinessSettings } = {}): Registry {
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

  registerSiteMetrics(stats, registry, totals, options.readiness ?? DEFAULT_READINESS);
  return registry;
}

/**
 * Per host and per group, the storage's health, and the switch-off plan with each site's readiness:
 * what `alerts/legacy-tls.rules.yml` alerts on. Label values stay bounded: hosts are the first
 * MAX_HOSTS seen (then `other`), groups the configured ones (then `other`), scopes three.
 */
function registerSiteMetrics(stats: Pick<StatsSource, 'snapshot'> & Partial<StatsSource>, registry: Registry, totals: () => Totals, readiness: ReadinessSettings): void {
  const flag = (value: boolean) => (value ? 'true' : 'false');
  new Counter({
    name: 'legacy_tls_site_requests_total',
    help: 'Requests per host (scope="host": the first 20 hosts seen, then "other") and per path group (scope="group"; "" outside every group), by legacy verdict and whether the client is a browser. The fallback page\'s own views are not counted.',
    labelNames: ['scope', 'site', 'legacy', 'browser'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of totals().sites) this.inc({ scope: row.scope, site: row.name, legacy: flag(row.legacy), browser: flag(row.browser) }, row.count);
    },
  });

  if (typeof stats.storageStatus === 'function') {
    const status = stats.storageStatus.bind(stats);
    new Gauge({
      name: 'legacy_tls_storage_error',
      help: '1 while the store cannot keep the numbers (the stats file cannot be written, the shared store cannot be reached): counts are then kept in memory only.',
      labelNames: ['store'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = status();
        this.set({ store: now.store }, now.error === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'legacy_tls_storage_last_saved_timestamp_seconds',
      help: 'When the store last kept the numbers, in seconds since the epoch (absent until the first save; the memory store never saves).',
      labelNames: ['store'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const now = status();
        const saved = now.lastSavedAt === null ? Number.NaN : Date.parse(now.lastSavedAt);
        if (Number.isFinite(saved)) this.set({ store: now.store }, saved / 1000);
      },
    });
  }

  if (typeof stats.now !== 'function') return;
  const clock = stats.now.bind(stats);
  const plan = () => stats.sitesPlan?.();
  // One computation per scrape, shared by the gauges below (as `totals` is for the counters).
  let scrape: SitesReport | undefined;
  const sites = (): SitesReport => {
    if (!scrape) {
      scrape = buildSites(stats.snapshot(), clock(), plan(), readiness);
      queueMicrotask(() => (scrape = undefined));
    }
    return scrape;
  };
  const rows = () => {
    const report = sites();
    return [report.site, ...report.hosts, ...report.groups];
  };
  new Gauge({
    name: 'legacy_tls_switch_off_timestamp_seconds',
    help: 'The switch-off date of the whole site (scope="site"), of each host and of each group, in seconds since the epoch (midnight UTC); absent without a date.',
    labelNames: ['scope', 'site'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) if (row.switchOff !== null) this.set({ scope: row.scope, site: row.name }, Date.parse(`${row.switchOff.date}T00:00:00Z`) / 1000);
    },
  });
  new Gauge({
    name: 'legacy_tls_site_ready',
    help: `1 when the legacy share among browser visitors has stayed below the readiness threshold (${readiness.threshold}) for ${readiness.days} days in a row, else 0; per scope and site as legacy_tls_site_requests_total, and scope="site" for the whole site.`,
    labelNames: ['scope', 'site'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) this.set({ scope: row.scope, site: row.name }, row.readiness.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'legacy_tls_site_legacy_browser_share',
    help: `The highest daily legacy share among browser visitors of the last ${readiness.days} days (absent when no day had browser visitors): what legacy_tls_site_ready compares with the threshold.`,
    labelNames: ['scope', 'site'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) if (row.readiness.highestShare !== null) this.set({ scope: row.scope, site: row.name }, row.readiness.highestShare);
    },
  });
  new Gauge({
    name: 'legacy_tls_readiness_threshold',
    help: 'The readiness threshold: the legacy share among browser visitors below which a day counts as ready.',
    registers: [registry],
    collect() {
      this.set(readiness.threshold);
    },
  });
}
