import type { Context, Middleware, Next } from 'koa';
import { FallbackEngine, type Decision, type FallbackResponse } from '../fallback/engine.js';
import { resolveFallbackOptions, type FallbackOptions } from '../fallback/options.js';
import type { Verdict } from '../types.js';

export type LegacyTlsFallbackOptions = FallbackOptions<Context>;

declare module 'koa' {
  interface DefaultState {
    /** Set by `legacyTlsFallback()` on every request. */
    legacyTls?: Verdict;
  }
}

/**
 * Koa middleware: classifies every request, puts the verdict on `ctx.state.legacyTls`, and sends
 * legacy clients to the fallback page (or renders it, or only observes, per `mode`).
 */
export function legacyTlsFallback(options: LegacyTlsFallbackOptions = {}): Middleware {
  const engine = new FallbackEngine(resolveFallbackOptions(options));

  const proceed = (ctx: Context, next: Next, verdict: Verdict, decision: Decision): Promise<unknown> | undefined => {
    engine.record(ctx.req, verdict, decision.action);
    if (!decision.response) {
      // A legacy request let through was decided on its normalised path: the app must route that one.
      if (verdict.legacy && decision.path !== undefined && decision.path !== ctx.path) ctx.path = decision.path;
      return next();
    }
    send(ctx, decision.response);
    return undefined;
  };

  // A plain function, not an async one: on the common path (no onLegacy hook) it returns next()'s
  // promise as it is, with no promise or microtask of its own. koa-compose turns a synchronous throw
  // into a rejection, so errors travel exactly as they would from an async middleware.
  return function legacyTlsFallbackMiddleware(ctx: Context, next: Next): Promise<unknown> | undefined {
    const verdict = engine.classify(ctx.req);
    ctx.state.legacyTls = verdict;
    const pending = engine.decide(
      { method: ctx.method, path: ctx.path, accept: ctx.get('accept') || undefined },
      verdict,
      ctx,
    );
    if (pending instanceof Promise) return pending.then((decision) => proceed(ctx, next, verdict, decision));
    return proceed(ctx, next, verdict, pending);
  };
}

function send(ctx: Context, response: FallbackResponse): void {
  ctx.status = response.status;
  ctx.set(response.headers);
  // Koa keeps a Content-Type that is already set instead of guessing one from the body.
  ctx.body = response.body;
}
