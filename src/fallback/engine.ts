import type { IncomingMessage } from 'node:http';
import { classifyClient } from '../classify/classify.js';
import type { ResolvedFallbackOptions } from './options.js';
import { createTlsFactsReader } from '../tls/facts.js';
import type { FallbackAction, Verdict } from '../types.js';
import { escapeHtml } from '../html.js';
import { isExactly, isWithin, normalisePath, normalisePrefix, type NormalisedPath } from '../http/request-path.js';
import { isHandshakeImpossible } from './xp-clients.js';
import { forwardedClientAddress } from '../http/forwarded.js';
import { PageSet } from './page-set.js';
import { beforeSwitchOff, type SiteMatch, type SitePolicy } from './sites.js';
import { continueHref, continueTarget, hasNoticeCookie, isPageNavigation, noticeCookie } from './switch-off.js';

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
  headers: Readonly<Record<string, string>>;
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
  /**
   * Headers the adapter adds to the app's (or the upstream's) response when the request is passed on:
   * `Deprecation` and `Sunset` for a legacy client before the switch-off date.
   */
  headers?: Readonly<Record<string, string>>;
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
 * on the normalised path (both of its readings, see http/request-path.ts), never on the raw one; every
 * host decision on the configured hosts (see sites.ts), never on a client's word alone.
 */
export class FallbackEngine<Context> {
  readonly options: ResolvedFallbackOptions<Context>;
  private readonly readFacts: (req: IncomingMessage) => Verdict['tls'];
  private readonly pages: PageSet;
  private readonly rejectUnreadablePaths: boolean;
  private readonly fallbackPage: NormalisedPath;
  /** Below the fallback page: the interstitial's link, which sets the cookie and leads on. */
  private readonly continuePath: NormalisedPath;
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
    const { plan } = options.sites;
    this.pages = new PageSet(options.page, [plan.site, ...plan.hosts, ...plan.groups].map((site) => site.switchOff));
    this.rejectUnreadablePaths = settings.rejectUnreadablePaths ?? false;
    this.attach = settings.attach;
    this.httpsPort = settings.httpsPort;
    // Validated as a path by the options; never null.
    this.fallbackPage = normalisePrefix(options.fallbackPath) as NormalisedPath;
    this.continuePath = normalisePrefix(`${options.fallbackPath}/continue`) as NormalisedPath;
    options.stats?.useSitesPlan?.(plan);
  }

  /**
   * The one call per request: classifies it, decides what happens to it, counts the outcome, and
   * returns what the adapter does next (write `response`, or pass the request on, at `path`, adding
   * `headers`). Synchronous unless an `onLegacy` hook has to be awaited. `path` is the path as the
   * framework sees it (Koa's `ctx.path`, Express's `req.path`); `normalised` saves normalising it again.
   */
  handle(req: IncomingMessage, path: string, context: Context, normalised?: NormalisedPath | null): Outcome | Promise<Outcome> {
    const verdict = this.classify(req);
    this.attach?.(context, verdict);
    const view: RequestView = { method: req.method ?? 'GET', path, accept: req.headers.accept, normalised: normalised === undefined ? normalisePath(path) : normalised };
    const now = this.options.sites.hasDates ? this.options.now() : 0;
    const site = this.site(req, verdict, view.normalised ?? null, now);
    const decision = this.decide(req, view, verdict, context, site, now);
    if (decision instanceof Promise) return decision.then((settled) => this.done(req, verdict, settled, site));
    return this.done(req, verdict, decision, site);
  }

  /** The same for an HTTP upgrade (WebSocket): legacy clients are refused whatever the path. */
  handleUpgrade(req: IncomingMessage, path: string, normalised?: NormalisedPath | null): Outcome {
    const verdict = this.classify(req);
    const view: RequestView = { method: req.method ?? 'GET', path, accept: req.headers.accept, normalised: normalised === undefined ? normalisePath(path) : normalised };
    const now = this.options.sites.hasDates ? this.options.now() : 0;
    const site = this.site(req, verdict, view.normalised ?? null, now);
    return this.done(req, verdict, this.decideUpgrade(req, view, verdict, site, now), site);
  }

  /**
   * The plain-HTTP listener (the proxy's): `GET`/`HEAD` of one ACME challenge token is passed on (certbot's
   * webroot lives on the site); clients that can never finish a handshake here (IE on Windows XP: RC4 and
   * 3DES only) get the fallback page in clear text rather than a redirect into a certain TLS error; everyone
   * else is redirected to HTTPS, and counted when they arrive there.
   */
  handlePlainHttp(req: IncomingMessage, target: { path: string; originForm: string }): Outcome {
    const verdict = this.classify(req);
    const now = this.options.sites.hasDates ? this.options.now() : 0;
    const site = this.site(req, verdict, normalisePath(target.path), now);
    if (isAcmeChallenge(req.method ?? 'GET', target.path)) return this.done(req, verdict, { action: 'excluded', path: target.path }, site);
    if (isHandshakeImpossible(verdict.client)) return this.done(req, verdict, { action: 'rendered', response: this.pageResponse(200, verdict, req, site.policy, now) }, site);
    return { verdict, action: 'passed', response: this.httpsRedirect(req, target.originForm) };
  }

  private site(req: IncomingMessage, verdict: Verdict, normalised: NormalisedPath | null, now: number): SiteMatch {
    return this.options.sites.match(req.headers.host, verdict.tls.servername, req.url, normalised, now);
  }

  private done(req: IncomingMessage, verdict: Verdict, decision: Decision, site: SiteMatch): Outcome {
    this.options.stats?.recordRequest({ verdict, action: decision.action, remoteAddress: this.visitorAddress(req), userAgent: req.headers['user-agent'], connection: req.socket, site });
    return {
      verdict,
      action: decision.action,
      ...(decision.response && { response: decision.response }),
      ...(decision.path !== undefined && { path: decision.path }),
      ...(decision.headers && { headers: decision.headers }),
    };
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
  private decide(req: IncomingMessage, view: RequestView, verdict: Verdict, context: Context, site: SiteMatch, now: number): Decision | Promise<Decision> {
    const { options } = this;
    const normalised = view.normalised ?? null;
    if (normalised === null) {
      // Nothing can be decided on a path nobody reads the same way: refuse it, fail closed.
      if (!verdict.legacy && !this.rejectUnreadablePaths) return { action: 'passed' };
      return { action: 'rejected', response: BAD_PATH };
    }
    const { path } = normalised;
    const readOnly = view.method === 'GET' || view.method === 'HEAD';
    if (readOnly && this.isFallbackPage(normalised)) {
      return { action: 'page', response: this.pageResponse(200, verdict.legacy ? verdict : null, req, site.policy, now) };
    }
    if (readOnly && isExactly(normalised, this.continuePath)) return { action: 'page', response: this.continueResponse(req, verdict) };
    if (options.exclude.some((matches) => matches(normalised)) || options.skip?.(context)) return { action: 'excluded', path };
    // The page's own assets (and a fallback URL on this site) are the page's traffic, not the site's.
    const own = this.isPageOwn(normalised);
    const allowed = own || isAcmeChallenge(view.method, view.path);
    if (!verdict.legacy) return { action: own ? 'page' : allowed ? 'excluded' : 'passed', path };
    // A legacy client may GET the fallback page's assets (and an ACME token), nothing else: other
    // methods there are refused below like anywhere else.
    if (allowed && readOnly) return { action: own ? 'page' : 'excluded', path };
    if (!options.onLegacy) return this.act(req, view, verdict, readOnly, path, site.policy, now);
    const hook = options.onLegacy;
    return (async () => {
      await hook(context, verdict);
      return this.act(req, view, verdict, readOnly, path, site.policy, now);
    })();
  }

  private decideUpgrade(req: IncomingMessage, view: RequestView, verdict: Verdict, site: SiteMatch, now: number): Decision {
    const normalised = view.normalised ?? null;
    if (normalised === null) return { action: 'rejected', response: BAD_PATH };
    if (!verdict.legacy) return { action: 'passed', path: normalised.path };
    if (beforeSwitchOff(site.policy, now)) return { action: 'warned', path: normalised.path };
    if (site.policy.mode === 'observe') return { action: 'observed', path: normalised.path };
    return { action: 'refused', response: this.upgradeRequired(req, view, verdict, site.policy, now) };
  }

  private act(req: IncomingMessage, view: RequestView, verdict: Verdict, readOnly: boolean, path: string, policy: SitePolicy, now: number): Decision {
    if (beforeSwitchOff(policy, now)) return this.warn(req, view, verdict, path, policy);
    if (policy.mode === 'observe') return { action: 'observed', path };
    if (!readOnly) return { action: 'refused', response: this.upgradeRequired(req, view, verdict, policy, now) };
    if (policy.mode === 'render') return { action: 'rendered', response: this.pageResponse(200, verdict, req, policy, now) };
    return { action: 'redirected', response: this.redirect() };
  }

  /**
   * Before the switch-off date a legacy client is served, and told: every answer carries the headers,
   * and a browser opening a page gets the interstitial first, until it has followed its link that day.
   */
  private warn(req: IncomingMessage, view: RequestView, verdict: Verdict, path: string, policy: SitePolicy): Decision {
    const headers = policy.headers!;
    const { kind } = verdict.client;
    if (
      policy.notice === 'interstitial' &&
      view.method === 'GET' &&
      // Bots and programs cannot click on; they read the headers.
      (kind === 'browser' || kind === 'unknown') &&
      isPageNavigation(req.headers, path) &&
      !hasNoticeCookie(req.headers.cookie)
    ) {
      const page = this.pages.interstitial(policy.switchOffDay!, req.headers['accept-language'], continueHref(this.continuePath.path, path, queryOf(req.url)), headers);
      return { action: 'interstitial', response: { status: 200, headers: page.headers, body: page.body } };
    }
    return { action: 'warned', path, headers };
  }

  /** The interstitial's link: sets the cookie for the day and leads on to the page asked for, on this site only. */
  private continueResponse(req: IncomingMessage, verdict: Verdict): FallbackResponse {
    const location = continueTarget(queryOf(req.url));
    return {
      status: 302,
      headers: {
        location,
        'cache-control': NO_STORE,
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': noticeCookie(this.options.now(), verdict.tls.protocol !== null),
      },
      body: `<!DOCTYPE html><title>Found</title><p>See <a href="${escapeHtml(location)}">this page</a>.</p>`,
    };
  }

  /**
   * The fallback page, in the language the request asks for; also for anyone who asks for it, so
   * owners can preview it (`verdict` null). With the switch-off date ahead, a legacy client's copy
   * carries the headers too.
   */
  private pageResponse(status: number, verdict: Verdict | null, req: IncomingMessage, policy: SitePolicy, now: number): FallbackResponse {
    const before = beforeSwitchOff(policy, now);
    const warning = verdict !== null && verdict.legacy && before ? policy.headers : null;
    const page = this.pages.page(policy.switchOffDay, req.headers['accept-language'], before, verdict, warning);
    return { status, headers: page.headers, body: page.body };
  }

  private isFallbackPage(path: NormalisedPath): boolean {
    return isExactly(path, this.fallbackPage);
  }

  /** Below the fallback page (its assets), or a fallback URL on this site. */
  private isPageOwn(path: NormalisedPath): boolean {
    const { localFallbackPath } = this.options;
    return isWithin(path, this.fallbackPage) || (localFallbackPath !== undefined && isWithin(path, localFallbackPath));
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
  // The answer depends on Accept (JSON or the page) and on Accept-Language (the page's language).
  private upgradeRequired(req: IncomingMessage, view: RequestView, verdict: Verdict, policy: SitePolicy, now: number): FallbackResponse {
    const headers = { upgrade: 'TLS/1.2', 'cache-control': NO_STORE, vary: 'Accept, Accept-Language' };
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
    const page = this.pageResponse(426, verdict, req, policy, now);
    return { status: page.status, body: page.body, headers: { ...page.headers, ...headers } };
  }
}

/** The raw query string of a request target, without `?`. */
function queryOf(url: string | undefined): string {
  const q = url === undefined ? -1 : url.indexOf('?');
  return q < 0 ? '' : (url as string).slice(q + 1);
}

// Old IE sends "*/*" (and image types) for form posts: only an explicit JSON preference gets JSON.
function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return /\bapplication\/([\w.+-]*\+)?json\b/i.test(accept) && !/\btext\/html\b/i.test(accept);
}
