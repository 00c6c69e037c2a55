import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FallbackEngine } from '../fallback/engine.js';
import { resolveFallbackOptions, type FallbackOptions } from '../fallback/options.js';
import type { LegacyTlsReportOptions } from '../report/options.js';
import { legacyTlsReportHandler } from '../report/handler.js';
import type { Verdict } from '../types.js';

/** Express flavour of the options: `skip` and `onLegacy` receive the request (`req.res` is the response). */
export type LegacyTlsFallbackExpressOptions = FallbackOptions<Request>;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by `legacyTlsFallback()` on every request. */
      legacyTls?: Verdict;
    }
  }
}

/** Express middleware over the same core as the Koa one: same options, same decisions. */
export function legacyTlsFallback(options: LegacyTlsFallbackExpressOptions = {}): RequestHandler {
  const engine = new FallbackEngine(resolveFallbackOptions(options));

  return function legacyTlsFallbackMiddleware(req: Request, res: Response, next: NextFunction): void {
    const verdict = engine.classify(req);
    res.locals.legacyTls = verdict;
    const path = req.path;
    Promise.resolve(engine.decide({ method: req.method, path, accept: req.get('accept') }, verdict, req))
      .then((decision) => {
        engine.record(req, verdict, decision.action);
        if (!decision.response) {
          // A legacy request let through was decided on its normalised path: the app must route that one.
          if (verdict.legacy && decision.path !== undefined && decision.path !== path) {
            const query = req.url.indexOf('?');
            req.url = decision.path + (query < 0 ? '' : req.url.slice(query));
          }
          return next();
        }
        const { status, headers, body } = decision.response;
        res.status(status).set(headers).send(body);
      }, next);
  };
}

/** The report endpoints (dashboard, report.json, metrics, health) as Express middleware. */
export function legacyTlsReport(options: LegacyTlsReportOptions): RequestHandler {
  const handle = legacyTlsReportHandler(options);
  return function legacyTlsReportMiddleware(req: Request, res: Response, next: NextFunction): void {
    handle(req, res).then((handled) => {
      if (!handled) next();
    }, next);
  };
}

export type { Verdict, TlsFacts, ClientInfo } from '../types.js';
