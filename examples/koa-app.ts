/**
 * A Koa site on a legacy-capable HTTPS server: TLS 1.0/1.1 visitors land on the contact page,
 * everyone else gets the site. Run it with `npm run example:koa` and open https://localhost:8443.
 */
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import { createLegacyTlsServer, legacyTlsFallback, type LegacyTlsServerOptions } from '../src/index.js';

export function createKoaExample(serverOptions: LegacyTlsServerOptions = {}) {
  const app = new Koa();
  app.use(
    legacyTlsFallback({
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
  app.use((ctx) => {
    const { tls, client } = ctx.state.legacyTls ?? {};
    ctx.body = `Welcome to the site. You connected with ${tls?.protocol ?? 'no TLS'} (${tls?.cipher ?? 'no cipher'}) using ${client?.browser ?? 'an unknown client'}.\n`;
  });
  const server = createLegacyTlsServer(serverOptions, app.callback());
  return { app, server };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8443);
  const host = process.env.HOST ?? 'localhost';
  const { server } = createKoaExample();
  server.on('handshakeFailure', (failure) => console.warn(`handshake failed: ${failure.reason} (${failure.code ?? 'no code'})`));
  server.listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(`Koa example listening on https://${host}:${actual}/ (fallback page: https://${host}:${actual}/legacy-browser)`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
