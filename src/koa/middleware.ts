import type { Context, Middleware, Next } from 'koa';
import { FallbackEngine, type Outcome } from '../fallback/engine.js';
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
  const engine = new FallbackEngine(resolveFallbackOptions(options), {
    attach: (ctx: Context, verdict) => {
      ctx.state.legacyTls = verdict;
    },
  });

  const apply = (ctx: Context, next: Next, outcome: Outcome): Promise<unknown> | undefined => {
    const { response } = outcome;
    if (response) {
      ctx.status = response.status;
      ctx.set(response.headers);
      // Koa keeps a Content-Type that is already set instead of guessing one from the body.
      ctx.body = response.body;
      return undefined;
    }
    // A legacy request let through was decided on its normalised path: the app must route that one.
    if (outcome.verdict.legacy && outcome.path !== undefined && outcome.path !== ctx.path) ctx.path = outcome.path;
    const { headers } = outcome;
    if (!headers) return next();
    // The switch-off warning goes on the app's answer, and on its error page: Koa clears the headers
    // set so far when the app throws, and sets the error's own.
    ctx.set(headers);
    return next().catch((error: unknown) => {
      if (error !== null && typeof error === 'object') {
        try {
          const own = (error as { headers?: Record<string, string> }).headers;
          (error as { headers?: Record<string, string> }).headers = { ...own, ...headers };
        } catch {
          // A frozen error keeps its own headers.
        }
      }
      throw error;
    });
  };

  // A plain function, not an async one: on the common path (no onLegacy hook) it returns next()'s
  // promise as it is, with no promise or microtask of its own. koa-compose turns a synchronous throw
  // into a rejection, so errors travel exactly as they would from an async middleware.
  return function legacyTlsFallbackMiddleware(ctx: Context, next: Next): Promise<unknown> | undefined {
    const outcome = engine.handle(ctx.req, ctx.path, ctx);
    if (outcome instanceof Promise) return outcome.then((settled) => apply(ctx, next, settled));
    return apply(ctx, next, outcome);
  };
}
