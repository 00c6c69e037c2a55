import type { Context, Middleware, Next } from 'koa';
import type { LegacyTlsReportOptions } from '../report/options.js';
import { createReportResponder } from '../report/handler.js';

/** Koa middleware serving the legacy-TLS report under `prefix` (default `/_legacy-tls`). */
export function legacyTlsReport(options: LegacyTlsReportOptions): Middleware {
  const responder = createReportResponder(options);
  return async function legacyTlsReportMiddleware(ctx: Context, next: Next): Promise<void> {
    const response = await responder({
      method: ctx.method,
      path: ctx.path,
      query: ctx.querystring,
      authorization: ctx.get('authorization') || undefined,
      remoteAddress: ctx.req.socket.remoteAddress,
    });
    if (!response) return next();
    ctx.status = response.status;
    ctx.set(response.headers);
    ctx.body = response.body;
  };
}
