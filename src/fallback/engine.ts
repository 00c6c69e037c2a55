import type { IncomingMessage } from 'node:http';
import { classifyClient } from '../classify/classify.js';
import type { ResolvedFallbackOptions } from '../options.js';
import { createTlsFactsReader } from '../tls/facts.js';
import type { FallbackAction, Verdict } from '../types.js';
import { escapeHtml } from '../html.js';
import { renderFallbackPage } from './page.js';

/** The parts of a request the decision needs, whatever the framework. */
export interface RequestView {
  method: string;
  /** Path without the query string, as received. */
  path: string;
  host: string | undefined;
  accept: string | undefined;
}

export interface FallbackResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Decision {
  action: FallbackAction;
  /** Present when the middleware answers the request itself; otherwise the app handles it. */
  response?: FallbackResponse;
}

const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

const NO_STORE = 'private, no-store';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': NO_STORE,
  'x-content-type-options': 'nosniff',
  // The built-in page needs nothing but its own inline style.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'",
};

/**
 * Framework-neutral core of the middleware: classifies a request and decides what happens to it.
 * Everything that can be computed from the options is computed here, once.
 */
export class FallbackEngine<Context> {
  readonly options: ResolvedFallbackOptions<Context>;
  private readonly readFacts: (req: IncomingMessage) => Verdict['tls'];
  private readonly staticPage: string | undefined;
  /** `fallbackPath` + '/': the page's trailing-slash variant and the prefix of its assets. */
  private readonly fallbackPathSlash: string;
  private readonly verdicts = new WeakMap<object, { userAgent: string | undefined; header: unknown; verdict: Verdict }>();

  constructor(options: ResolvedFallbackOptions<Context>) {
    this.options = options;
    this.readFacts = createTlsFactsReader({ trustedHeader: options.trustedHeader, trustedProxies: options.trustedProxies });
    this.staticPage = typeof options.page === 'function' ? undefined : renderFallbackPage(options.page);
    this.fallbackPathSlash = `${options.fallbackPath}/`;
  }

  /**
   * The verdict for a request. A keep-alive connection's TLS facts never change, and its user agent
   * rarely does, so the verdict is kept per connection and reused while the user agent (and trusted
   * header) stay the same: most requests then cost a WeakMap lookup instead of a classification.
   */
  classify(req: IncomingMessage): Verdict {
    const userAgent = req.headers['user-agent'];
    const header = this.options.trustedHeader === undefined ? undefined : req.headers[this.options.trustedHeader];
    const cached = this.verdicts.get(req.socket);
    if (cached && cached.userAgent === userAgent && cached.header === header) return cached.verdict;
    const verdict = classifyClient(this.readFacts(req), userAgent, this.options.policy);
    this.verdicts.set(req.socket, { userAgent, header, verdict });
    return verdict;
  }

  /** Counts the request, when the options carry a `TrafficStats`. */
  record(req: IncomingMessage, verdict: Verdict, action: FallbackAction): void {
    this.options.stats?.recordRequest({ verdict, action, remoteAddress: req.socket.remoteAddress, userAgent: req.headers['user-agent'], connection: req.socket });
  }

  /** What to do with a request. Synchronous unless an `onLegacy` hook has to be awaited. */
  decide(view: RequestView, verdict: Verdict, context: Context): Decision | Promise<Decision> {
    const { options } = this;
    const readOnly = view.method === 'GET' || view.method === 'HEAD';
    if (readOnly && (view.path === options.fallbackPath || view.path === this.fallbackPathSlash)) {
      return { action: 'excluded', response: this.pageResponse(200, verdict.legacy ? verdict : null) };
    }
    if (this.isExcluded(view) || options.skip?.(context)) return { action: 'excluded' };
    if (!verdict.legacy) return { action: 'passed' };
    if (!options.onLegacy) return this.act(view, verdict, readOnly);
    const hook = options.onLegacy;
    return (async () => {
      await hook(context, verdict);
      return this.act(view, verdict, readOnly);
    })();
  }

  private act(view: RequestView, verdict: Verdict, readOnly: boolean): Decision {
    const { options } = this;
    if (options.mode === 'observe') return { action: 'observed' };
    if (!readOnly) return { action: 'refused', response: this.upgradeRequired(view, verdict) };
    if (options.mode === 'render') return { action: 'rendered', response: this.pageResponse(200, verdict) };
    return { action: 'redirected', response: this.redirect() };
  }

  /** The fallback page itself, for anyone who asks, so owners can preview it. */
  pageResponse(status: number, verdict: Verdict | null): FallbackResponse {
    return { status, headers: { ...PAGE_HEADERS }, body: this.pageBody(verdict) };
  }

  private pageBody(verdict: Verdict | null): string {
    if (this.staticPage !== undefined) return this.staticPage;
    const html = (this.options.page as (verdict: Verdict | null) => unknown)(verdict);
    if (typeof html !== 'string') throw new TypeError(`legacy-tls-fallback: the \`page\` function returned ${typeof html}; it must return the page's HTML as a string`);
    return html;
  }

  private isExcluded(view: RequestView): boolean {
    const { path } = view;
    if (path.startsWith(ACME_CHALLENGE_PREFIX) || path.startsWith(this.fallbackPathSlash)) return true;
    if (this.options.exclude.some((matches) => matches(path))) return true;
    return this.isExternalFallbackOnThisHost(view);
  }

  // A fallbackUrl that points back at this very site must not be redirected again: that would loop.
  private isExternalFallbackOnThisHost(view: RequestView): boolean {
    const url = this.options.fallbackUrl;
    if (!url || !view.host || normaliseHost(view.host, url.protocol) !== url.host) return false;
    const target = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    return view.path === target || view.path.startsWith(target.endsWith('/') ? target : `${target}/`);
  }

  private redirect(): FallbackResponse {
    const target = this.options.redirectTarget;
    return {
      // 302, never 301: a cached permanent redirect would trap the visitor after they upgrade.
      status: 302,
      headers: { location: target, 'cache-control': NO_STORE, 'content-type': 'text/html; charset=utf-8' },
      body: `<!DOCTYPE html><title>Found</title><p>See <a href="${escapeHtml(target)}">this page</a>.</p>`,
    };
  }

  // Redirecting a POST would drop or replay its body: say plainly that the client must upgrade instead.
  private upgradeRequired(view: RequestView, verdict: Verdict): FallbackResponse {
    const headers = { upgrade: 'TLS/1.2', 'cache-control': NO_STORE, vary: 'Accept' };
    if (prefersJson(view.accept)) {
      return {
        status: 426,
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify({
          error: 'upgrade_required',
          message: 'This client is too old to connect securely (TLS 1.2 or newer is needed).',
          fallback: this.options.redirectTarget,
        }),
      };
    }
    const page = this.pageResponse(426, verdict);
    return { status: page.status, body: page.body, headers: Object.assign({}, page.headers, headers) };
  }
}

// Old IE sends "*/*" (and image types) for form posts: only an explicit JSON preference gets JSON.
function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return /\bapplication\/([\w.+-]*\+)?json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}

// `Host: example.com:443` is the same site as https://example.com/ (the URL parser drops default ports).
function normaliseHost(host: string, protocol: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}
