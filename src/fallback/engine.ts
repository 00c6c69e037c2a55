import type { IncomingMessage } from 'node:http';
import { classifyClient } from '../classify/classify.js';
import type { ResolvedFallbackOptions } from './options.js';
import { createTlsFactsReader } from '../tls/facts.js';
import type { FallbackAction, Verdict } from '../types.js';
import { escapeHtml } from '../html.js';
import { renderFallbackPage } from './page.js';
import { isExactly, isWithin, normalisePath, normalisePrefix, type NormalisedPath } from '../http/request-path.js';
import { isHandshakeImpossible } from './xp-clients.js';
import { forwardedClientAddress } from '../http/forwarded.js';

/** The parts of a request the decision needs, whatever the framework. */
export interface RequestView {
  method: string;
  /** Path without the query string, as received: the engine normalises it (http/request-path.ts). */
  path: string;
  accept: string | undefined;
  /** `normalisePath(path)`, when the caller has already computed it. */
  normalised?: NormalisedPath | null;
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
  /**
   * The normalised path the decision was made on, when the request is passed on: the proxy forwards
   * this, and the adapters hand it to the app where the app would otherwise read the path differently.
   */
  path?: string;
}

/** What the engine did with a request: the verdict, the action counted, and what the adapter does next. */
export interface Outcome extends Decision {
  verdict: Verdict;
}

export interface EngineSettings<Context> {
  /**
   * Answer 400 to every request whose path cannot be normalised, not only legacy ones: the proxy must
   * forward the path it decided on and has none to forward. Middleware leaves modern requests to the app.
   */
  rejectUnreadablePaths?: boolean;
  /** Puts the verdict where the framework keeps request state (`ctx.state`, `res.locals`), before any hook runs. */
  attach?: (context: Context, verdict: Verdict) => void;
  /** The plain-HTTP listener's HTTPS port, for its redirects (the proxy only). */
  httpsPort?: () => number;
}

// RFC 8555 §8.3: the token is base64url. Only GET/HEAD of exactly one such segment is a challenge.
const ACME_CHALLENGE = /^\/\.well-known\/acme-challenge\/[A-Za-z0-9_-]{1,256}$/;

const NO_STORE = 'private, no-store';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': NO_STORE,
  'x-content-type-options': 'nosniff',
  // The built-in page needs nothing but its own inline style.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'",
};

const BAD_PATH: FallbackResponse = Object.freeze({
  status: 400,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': NO_STORE },
  body: 'Bad request: the path of this request cannot be read (a malformed percent-encoding or a control character).\n',
});

export function isAcmeChallenge(method: string, rawPath: string): boolean {
  return (method === 'GET' || method === 'HEAD') && ACME_CHALLENGE.test(rawPath);
}

/**
 * Framework-neutral core of the middleware: classifies a request and decides what happens to it.
 * Everything that can be computed from the options is computed here, once. Every path decision is made
 * on the normalised path (both of its readings, see http/request-path.ts), never on the raw one.
 */
export class FallbackEngine<Context> {
  readonly options: ResolvedFallbackOptions<Context>;
  private readonly readFacts: (req: IncomingMessage) => Verdict['tls'];
  private readonly staticPage: string | undefined;
  private readonly rejectUnreadablePaths: boolean;
  private readonly fallbackPage: NormalisedPath;
  private readonly verdicts = new WeakMap<object, { userAgent: string | undefined; header: unknown; verdict: Verdict }>();

  private readonly attach: ((context: Context, verdict: Verdict) => void) | undefined;
  private readonly httpsPort: (() => number) | undefined;

  constructor(options: ResolvedFallbackOptions<Context>, settings: EngineSettings<Context> = {}) {
    this.options = options;
    let warned = false;
    this.readFacts = createTlsFactsReader({
      trustedHeader: options.trustedHeader,
      trustedProxies: options.trustedProxies,
      onUnreadable: (value, peer) => {
        if (warned) return;
        warned = true;
        options.warn(
          `legacy-tls-fallback: trusted proxy ${peer ?? 'unknown'} sent ${options.trustedHeader}: ${JSON.stringify(value.slice(0, 80))}, which names no TLS version this package knows (or several that disagree); such requests are treated as legacy (fail closed). Make sure the proxy sets the header instead of appending to it. (Logged once.)`,
        );
      },
    });
    this.staticPage = typeof options.page === 'function' ? undefined : renderFallbackPage(options.page);
    this.rejectUnreadablePaths = settings.rejectUnreadablePaths ?? false;
    this.attach = settings.attach;
    this.httpsPort = settings.httpsPort;
    // Validated as a path by the options; never null.
    this.fallbackPage = normalisePrefix(options.fallbackPath) as NormalisedPath;
  }

  /**
   * The one call per request: classifies it, decides what happens to it, counts the outcome, and
   * returns what the adapter does next (write `response`, or pass the request on, at `path`).
   * Synchronous unless an `onLegacy` hook has to be awaited. `path` is the path as the framework sees
   * it (Koa's `ctx.path`, Express's `req.path`); `normalised` saves normalising it again.
   */
  handle(req: IncomingMessage, path: string, context: Context, normalised?: NormalisedPath | null): Outcome | Promise<Outcome> {
    const verdict = this.classify(req);
    this.attach?.(context, verdict);
    const view: RequestView = { method: req.method ?? 'GET', path, accept: req.headers.accept, ...(normalised !== undefined && { normalised }) };
    const decision = this.decide(view, verdict, context);
    if (decision instanceof Promise) return decision.then((settled) => this.done(req, verdict, settled));
    return this.done(req, verdict, decision);
  }

  /** The same for an HTTP upgrade (WebSocket): legacy clients are refused whatever the path. */
  handleUpgrade(req: IncomingMessage, path: string, normalised?: NormalisedPath | null): Outcome {
    const verdict = this.classify(req);
    return this.done(req, verdict, this.decideUpgrade({ method: req.method ?? 'GET', path, accept: req.headers.accept, ...(normalised !== undefined && { normalised }) }, verdict));
  }

  /**
   * The plain-HTTP listener (the proxy's): `GET`/`HEAD` of one ACME challenge token is passed on (certbot's
   * webroot lives on the site); clients that can never finish a handshake here (IE on Windows XP: RC4 and
   * 3DES only) get the fallback page in clear text rather than a redirect into a certain TLS error; everyone
   * else is redirected to HTTPS, and counted when they arrive there.
   */
  handlePlainHttp(req: IncomingMessage, target: { path: string; originForm: string }): Outcome {
    const verdict = this.classify(req);
    if (isAcmeChallenge(req.method ?? 'GET', target.path)) return this.done(req, verdict, { action: 'excluded', path: target.path });
    if (isHandshakeImpossible(verdict.client)) return this.done(req, verdict, { action: 'rendered', response: this.pageResponse(200, verdict) });
    return { verdict, action: 'passed', response: this.httpsRedirect(req, target.originForm) };
  }

  private done(req: IncomingMessage, verdict: Verdict, decision: Decision): Outcome {
    this.options.stats?.recordRequest({ verdict, action: decision.action, remoteAddress: this.visitorAddress(req), userAgent: req.headers['user-agent'], connection: req.socket });
    return { verdict, action: decision.action, ...(decision.response && { response: decision.response }), ...(decision.path !== undefined && { path: decision.path }) };
  }

  /**
   * The address a visitor is counted by: behind a trusted proxy (a load balancer that terminates TLS),
   * the client it forwarded for, from `X-Forwarded-For` / `Forwarded`; otherwise the socket's peer. An
   * untrusted peer's forwarding headers are never read. For the visitor estimate only.
   */
  private visitorAddress(req: IncomingMessage): string | undefined {
    const peer = req.socket.remoteAddress;
    const { trustedProxies } = this.options;
    if (!trustedProxies.has(peer)) return peer;
    return forwardedClientAddress(peer, req.headers, (address) => trustedProxies.has(address));
  }

  /**
   * The verdict for a request. A keep-alive connection's TLS facts never change, and its user agent
   * rarely does, so the verdict is kept per connection and reused while the user agent (and trusted
   * header) stay the same: most requests then cost a WeakMap lookup instead of a classification.
   */
  private classify(req: IncomingMessage): Verdict {
    const userAgent = req.headers['user-agent'];
    const header = this.options.trustedHeader === undefined ? undefined : req.headers[this.options.trustedHeader];
    const cached = this.verdicts.get(req.socket);
    if (cached && cached.userAgent === userAgent && cached.header === header) return cached.verdict;
    const verdict = classifyClient(this.readFacts(req), userAgent, this.options.policy);
    this.verdicts.set(req.socket, { userAgent, header, verdict });
    return verdict;
  }

  private httpsRedirect(req: IncomingMessage, originForm: string): FallbackResponse {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.exec(req.headers.host ?? '');
    if (!match) return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'A Host header is needed to redirect you to HTTPS.\n' };
    const port = this.httpsPort?.() ?? 443;
    // Never `https://host:port` + `http://other/…`: only a path may follow the host.
    const location = `https://${match[1]}${port === 443 ? '' : `:${port}`}${originForm.startsWith('/') ? originForm : '/'}`;
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    // 301 is what every client understands for http→https; 308 keeps the method and body of the rest.
    return { status: readOnly ? 301 : 308, headers: { location, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'max-age=3600' }, body: `Moved to ${location}\n` };
  }

  /** What to do with a request. Synchronous unless an `onLegacy` hook has to be awaited. */
  private decide(view: RequestView, verdict: Verdict, context: Context): Decision | Promise<Decision> {
    const { options } = this;
    const normalised = view.normalised === undefined ? normalisePath(view.path) : view.normalised;
    if (normalised === null) {
      // Nothing can be decided on a path nobody reads the same way: refuse it, fail closed.
      if (!verdict.legacy && !this.rejectUnreadablePaths) return { action: 'passed' };
      return { action: 'rejected', response: BAD_PATH };
    }
    const { path } = normalised;
    const readOnly = view.method === 'GET' || view.method === 'HEAD';
    if (readOnly && this.isFallbackPage(normalised)) {
      return { action: 'excluded', response: this.pageResponse(200, verdict.legacy ? verdict : null) };
    }
    if (options.exclude.some((matches) => matches(normalised)) || options.skip?.(context)) return { action: 'excluded', path };
    const allowed = this.isAllowedToLegacy(normalised, view);
    if (!verdict.legacy) return { action: allowed ? 'excluded' : 'passed', path };
    // A legacy client may GET the fallback page's assets (and an ACME token), nothing else: other
    // methods there are refused below like anywhere else.
    if (allowed && readOnly) return { action: 'excluded', path };
    if (!options.onLegacy) return this.act(view, verdict, readOnly, path);
    const hook = options.onLegacy;
    return (async () => {
      await hook(context, verdict);
      return this.act(view, verdict, readOnly, path);
    })();
  }

  private decideUpgrade(view: RequestView, verdict: Verdict): Decision {
    const normalised = view.normalised === undefined ? normalisePath(view.path) : view.normalised;
    if (normalised === null) return { action: 'rejected', response: BAD_PATH };
    if (!verdict.legacy) return { action: 'passed', path: normalised.path };
    if (this.options.mode === 'observe') return { action: 'observed', path: normalised.path };
    return { action: 'refused', response: this.upgradeRequired(view, verdict) };
  }

  private act(view: RequestView, verdict: Verdict, readOnly: boolean, path: string): Decision {
    const { options } = this;
    if (options.mode === 'observe') return { action: 'observed', path };
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

  private isFallbackPage(path: NormalisedPath): boolean {
    return isExactly(path, this.fallbackPage);
  }

  /** Below the fallback page (its assets), a fallback URL on this site, or an ACME challenge token. */
  private isAllowedToLegacy(path: NormalisedPath, view: RequestView): boolean {
    const { localFallbackPath } = this.options;
    if (isWithin(path, this.fallbackPage)) return true;
    if (localFallbackPath !== undefined && isWithin(path, localFallbackPath)) return true;
    return isAcmeChallenge(view.method, view.path);
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
