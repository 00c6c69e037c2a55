/**
 * A Koa site built the way Koa apps are, with @koa/router, on a legacy-capable HTTPS server: TLS 1.0/1.1
 * visitors land on the contact page, everyone else gets the site, and every request and handshake is
 * counted. Run it with `npm run example:koa`, open https://localhost:8443, and the report on
 * https://localhost:8443/admin/legacy-tls/.
 */
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import { createLegacyTlsServer, TrafficStats, type LegacyTlsServer, type LegacyTlsServerOptions } from '../src/index.js';
import { legacyTlsFallback, legacyTlsReport } from '../src/koa/index.js';

/** Where the example mounts the report: an admin path of the site's own. */
export const REPORT_PREFIX = '/admin/legacy-tls';

export function createKoaExample(serverOptions: LegacyTlsServerOptions = {}, stats = new TrafficStats()) {
  const app = new Koa();

  // The report on its own router, first, so that its own requests are not counted as site traffic.
  // `{/*path}` hands it the prefix and everything below; it answers its routes and passes on the rest.
  const admin = new Router();
  admin.all(`${REPORT_PREFIX}{/*path}`, legacyTlsReport({ stats, prefix: REPORT_PREFIX, token: process.env.LEGACY_TLS_REPORT_TOKEN, logger: serverOptions.logger }));
  app.use(admin.routes());

  // Every site request gets a verdict; legacy clients go to the contact page before any route runs.
  app.use(
    legacyTlsFallback({
      stats,
      mode: 'redirect',
      page: {
        organisation: 'Example Ltd',
        email: 'help@example.com',
        phone: '+44 20 7946 0000',
        address: '1 Example Street\nLondon',
        hours: 'Monday to Friday, 9:00 to 17:00',
      },
    }),
  );

  const site = new Router();
  site.get('/', (ctx) => {
    const { tls, client } = ctx.state.legacyTls ?? {};
    ctx.body = `Welcome to the site. You connected with ${tls?.protocol ?? 'no TLS'} (${tls?.cipher ?? 'no cipher'}) using ${client?.browser ?? 'an unknown client'}.\n`;
  });
  site.get('/account', (ctx) => {
    ctx.body = 'Your account: Welcome to the site, you are signed in.\n';
  });
  site.post('/contact', (ctx) => {
    ctx.status = 202;
    ctx.body = 'Thank you, we will be in touch.\n';
  });
  app.use(site.routes()).use(site.allowedMethods());

  const server = createLegacyTlsServer({ ...serverOptions, stats }, app.callback());
  return { app, server, stats };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8443);
  const host = process.env.HOST ?? 'localhost';
  const stats = new TrafficStats({ statsFile: process.env.STATS_FILE ?? 'legacy-tls-stats.json', logger: console });
  const { server } = createKoaExample({}, stats);
  server.listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(`Koa example listening on https://${host}:${actual}/`);
    console.log(`  fallback page: https://${host}:${actual}/legacy-browser`);
    console.log(`  report:        https://${host}:${actual}${REPORT_PREFIX}/ (loopback only unless LEGACY_TLS_REPORT_TOKEN is set)`);
  });
  stopOnSignals(server, stats);
}

/**
 * A clean stop on SIGTERM or SIGINT: no new connections, idle keep-alive ones closed at once (or
 * `server.close` waits for them), busy ones given 5 s, then the last stats flush, then exit. The
 * handlers stay installed: under `npm run` or `tsx` one stop can deliver the signal twice (to the
 * process group, and relayed by tsx), and a second one with no listener left would end the process in
 * the middle of the flush. A repeated signal only cuts the requests still in flight.
 */
function stopOnSignals(server: LegacyTlsServer, stats: TrafficStats): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return void server.closeAllConnections();
    stopping = true;
    console.log(`${signal}: stopping`);
    const cutBusy = setTimeout(() => server.closeAllConnections(), 5_000);
    server.close(() => {
      clearTimeout(cutBusy);
      void stats.close().then(() => {
        console.log('stopped, stats saved');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
