import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FallbackEngine, type Outcome } from '../fallback/engine.js';
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
  const engine = new FallbackEngine(resolveFallbackOptions(options), {
    attach: (req: Request, verdict) => {
      (req.res as Response).locals.legacyTls = verdict;
    },
  });

  const apply = (req: Request, res: Response, next: NextFunction, outcome: Outcome): void => {
    const { response } = outcome;
    if (response) {
      res.status(response.status).set(response.headers).send(response.body);
      return;
    }
    // A legacy request let through was decided on its normalised path: the app must route that one.
    if (outcome.verdict.legacy && outcome.path !== undefined && outcome.path !== req.path) {
      const query = req.url.indexOf('?');
      req.url = outcome.path + (query < 0 ? '' : req.url.slice(query));
    }
    // The switch-off warning, on whatever the app answers (Express's error handler keeps it).
    if (outcome.headers) res.set(outcome.headers);
    next();
  };

  return function legacyTlsFallbackMiddleware(req: Request, res: Response, next: NextFunction): void {
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = engine.handle(req, req.path, req);
    } catch (error) {
      return next(error);
    }
    if (outcome instanceof Promise) outcome.then((settled) => apply(req, res, next, settled), next);
    else apply(req, res, next, outcome);
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
