import type { Context, Middleware, Next } from 'koa';
import { FallbackEngine, type FallbackResponse } from '../fallback/engine.js';
import { resolveFallbackOptions, type FallbackCoreOptions } from '../options.js';
import type { Verdict } from '../types.js';

export type LegacyTlsFallbackOptions = FallbackCoreOptions<Context>;

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

  return async function legacyTlsFallbackMiddleware(ctx: Context, next: Next): Promise<void> {
    const verdict = engine.classify(ctx.req);
    ctx.state.legacyTls = verdict;
    const pending = engine.decide(
      { method: ctx.method, path: ctx.path, host: ctx.get('host') || undefined, accept: ctx.get('accept') || undefined },
      verdict,
      ctx,
    );
    // Skip a microtask per request when nothing had to be awaited (no onLegacy hook).
    const decision = pending instanceof Promise ? await pending : pending;
    engine.record(ctx.req, verdict, decision.action);
    if (decision.response) return send(ctx, decision.response);
    await next();
  };
}

function send(ctx: Context, response: FallbackResponse): void {
  ctx.status = response.status;
  ctx.set(response.headers);
  // Koa keeps a Content-Type that is already set instead of guessing one from the body.
  ctx.body = response.body;
}
