/**
 * The same site with Express. Run it with `npm run example:express` and open https://localhost:8444.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createLegacyTlsServer, type LegacyTlsServerOptions } from '../src/index.js';
import { legacyTlsFallback } from '../src/express/index.js';

export function createExpressExample(serverOptions: LegacyTlsServerOptions = {}) {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    legacyTlsFallback({
      mode: 'redirect',
      page: { organisation: 'Example Ltd', email: 'help@example.com', phone: '+44 20 7946 0000' },
    }),
  );
  app.get('/', (_req, res) => {
    const tls = res.locals.legacyTls?.tls;
    res.type('text').send(`Welcome to the site. You connected with ${tls?.protocol ?? 'no TLS'}.\n`);
  });
  const server = createLegacyTlsServer(serverOptions, app);
  return { app, server };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8444);
  const host = process.env.HOST ?? 'localhost';
  const { server } = createExpressExample();
  server.listen(port, host, () => console.log(`Express example listening on https://${host}:${port}/`));
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
