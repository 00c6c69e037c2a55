import http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Koa, { type Context } from 'koa';
import request from 'supertest';
import { legacyTlsFallback as expressFallback } from '../../src/express/index.js';
import type { FallbackOptions } from '../../src/fallback/options.js';
import { legacyTlsFallback as koaFallback } from '../../src/koa/index.js';
import type { Verdict } from '../../src/types.js';
import { closeServer, listenOn } from './servers.js';

export interface Harness {
  /** supertest bound to the server on 127.0.0.1. */
  http: ReturnType<typeof request>;
  /** The verdict the framework kept for every request (`ctx.state` / `res.locals`), answered by the middleware or not. */
  verdicts: (Verdict | undefined)[];
  /** `METHOD path` of every request that reached the app behind the middleware. */
  hits: string[];
  /** Errors the framework's error handling saw. */
  errors: Error[];
  port: number;
}

/**
 * One framework behind the same harness, so that one suite checks that Koa and Express behave alike: the
 * middleware in front of a tiny site (answers 'the site' with `x-app: yes`), on a loopback port.
 * `skip` and `onLegacy` get the framework's own context; the accessors read it the same way for both.
 */
/** The tiny site behind the middleware, as a request handler for any Node server. */
export interface Site {
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  verdicts: (Verdict | undefined)[];
  hits: string[];
  errors: Error[];
}

export interface Adapter {
  name: 'Koa' | 'Express';
  /** The site with the middleware in front, as a request handler (for an https or legacy TLS server). */
  site(options?: FallbackOptions<never>): Site;
  /** The same site on a plain-HTTP loopback server, with supertest. */
  start(options?: FallbackOptions<never>): Promise<Harness>;
  /** The request path, a request header, and setting a response header, on the framework's context. */
  path(context: unknown): string;
  header(context: unknown, name: string): string | undefined;
  setHeader(context: unknown, name: string, value: string): void;
  /** Where the framework keeps the verdict for the app (`ctx.state.legacyTls`, `res.locals.legacyTls`). */
  verdictOf(context: unknown): Verdict | undefined;
  close(): Promise<void>;
}

function servers() {
  const open: http.Server[] = [];
  return {
    async listen(server: http.Server) {
      open.push(server);
      return listenOn(server);
    },
    close: () => Promise.all(open.splice(0).map(closeServer)).then(() => undefined),
  };
}

export function koaAdapter(): Adapter {
  const running = servers();
  const site = (options: FallbackOptions<never> = {}): Site => {
      const verdicts: (Verdict | undefined)[] = [];
      const hits: string[] = [];
      const errors: Error[] = [];
      const app = new Koa();
      app.silent = true;
      app.on('error', (error: Error) => errors.push(error));
      app.use(async (ctx, next) => {
        try {
          await next();
        } finally {
          verdicts.push(ctx.state.legacyTls);
        }
      });
      app.use(koaFallback(options as FallbackOptions<Context>));
      app.use((ctx) => {
        hits.push(`${ctx.method} ${ctx.path}`);
        ctx.set('x-app', 'yes');
        ctx.type = 'text/plain';
        ctx.body = 'the site';
      });
      const callback = app.callback();
      // Koa's callback handles its own errors: its promise never rejects.
      return { handle: (req, res) => void callback(req, res), verdicts, hits, errors };
  };
  return {
    name: 'Koa',
    site,
    start: (options) => startSite(running, site(options)),
    path: (ctx) => (ctx as Context).path,
    header: (ctx, name) => (ctx as Context).get(name) || undefined,
    setHeader: (ctx, name, value) => (ctx as Context).set(name, value),
    verdictOf: (ctx) => (ctx as Context).state.legacyTls,
    close: running.close,
  };
}

export function expressAdapter(): Adapter {
  const running = servers();
  const site = (options: FallbackOptions<never> = {}): Site => {
      const verdicts: (Verdict | undefined)[] = [];
      const hits: string[] = [];
      const errors: Error[] = [];
      const app = express();
      app.disable('x-powered-by');
      app.disable('etag');
      const middleware = expressFallback(options as FallbackOptions<Request>);
      // The verdict is set synchronously, before any (async) hook: record it whoever answers.
      app.use((req, res, next) => {
        middleware(req, res, next);
        verdicts.push(res.locals.legacyTls);
      });
      app.use((req, res) => {
        hits.push(`${req.method} ${req.path}`);
        res.set('x-app', 'yes').type('text/plain').send('the site');
      });
      app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
        errors.push(error);
        res.status(500).type('text/plain').send(`handled: ${error.message}`);
      });
      return { handle: app, verdicts, hits, errors };
  };
  return {
    name: 'Express',
    site,
    start: (options) => startSite(running, site(options)),
    path: (req) => (req as Request).path,
    header: (req, name) => (req as Request).get(name),
    setHeader: (req, name, value) => void (req as Request).res!.set(name, value),
    verdictOf: (req) => (req as Request).res!.locals.legacyTls,
    close: running.close,
  };
}

async function startSite(running: ReturnType<typeof servers>, site: Site): Promise<Harness> {
  const port = await running.listen(http.createServer(site.handle));
  return { http: request(`http://127.0.0.1:${port}`), verdicts: site.verdicts, hits: site.hits, errors: site.errors, port };
}

export const ADAPTERS = [koaAdapter(), expressAdapter()];
