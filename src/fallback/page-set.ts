import type { Verdict } from '../types.js';
import { createPageRenderer, type PageRenderer } from './page.js';
import type { FallbackPageContent } from './page-options.js';

/** Returns the whole HTML of the fallback page. `verdict` is `null` when the page is previewed directly. */
export type FallbackPageRenderer = (verdict: Verdict | null) => string;

export interface PageAnswer {
  body: string;
  headers: Readonly<Record<string, string>>;
}

const NO_STORE = 'private, no-store';

/** Headers of every built-in page: the page needs nothing but its own inline style. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'cache-control': NO_STORE,
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'",
});

/**
 * The fallback page and the interstitial in every offered language, for every switch-off day the
 * configuration names (the global one, and those of hosts and groups): rendered once, at creation.
 * A request costs a cached negotiation of its `Accept-Language` and two map lookups, and its headers
 * are shared, frozen objects.
 */
export class PageSet {
  private readonly renderers = new Map<string, PageRenderer>();
  private readonly custom: FallbackPageRenderer | undefined;
  private readonly headers = new Map<string, Readonly<Record<string, string>>>();

  /** `days`: every switch-off day in use (`YYYY-MM-DD`), `null` for "no date". */
  constructor(page: FallbackPageContent | FallbackPageRenderer, days: Iterable<string | null>) {
    this.custom = typeof page === 'function' ? page : undefined;
    // An owner's own page has no languages: the interstitial is the built-in one, with no details.
    const content = typeof page === 'function' ? {} : page;
    for (const day of new Set([null, ...days])) {
      this.renderers.set(day ?? '', createPageRenderer(content, day === null ? {} : { switchOff: day }));
    }
  }

  /**
   * The fallback page for a request with this `Accept-Language`, in the phase `before` (the date is
   * ahead) or after. `warning` adds the switch-off headers (a legacy client before the date).
   */
  page(day: string | null, acceptLanguage: unknown, before: boolean, verdict: Verdict | null, warning: Readonly<Record<string, string>> | null): PageAnswer {
    if (this.custom !== undefined) {
      const html = this.custom(verdict);
      if (typeof html !== 'string') throw new TypeError(`legacy-tls-fallback: the \`page\` function returned ${typeof html}; it must return the page's HTML as a string`);
      return { body: html, headers: warning === null ? PAGE_HEADERS : this.cached(`custom|${day ?? ''}`, () => ({ ...PAGE_HEADERS, ...warning })) };
    }
    const renderer = this.renderer(day);
    const language = renderer.negotiate(acceptLanguage);
    const headers = this.cached(`page|${day ?? ''}|${language}|${warning === null ? '' : 'w'}`, () => ({
      ...PAGE_HEADERS,
      'content-language': renderer.contentLanguage(language),
      vary: 'Accept-Language',
      ...warning,
    }));
    return { body: renderer.page(language, before ? 'before' : 'after'), headers };
  }

  /** The interstitial, linking on to `href`; only for a day that is set. */
  interstitial(day: string, acceptLanguage: unknown, href: string, warning: Readonly<Record<string, string>>): PageAnswer {
    const renderer = this.renderer(day);
    const language = renderer.negotiate(acceptLanguage);
    const headers = this.cached(`interstitial|${day}|${language}`, () => ({
      ...PAGE_HEADERS,
      'content-language': renderer.contentLanguage(language),
      // Shown to browsers opening a page (Accept), in their language, until the cookie is set.
      vary: 'Accept, Accept-Language, Cookie',
      ...warning,
    }));
    return { body: renderer.interstitial!(language, href), headers };
  }

  private renderer(day: string | null): PageRenderer {
    // Every day in use was rendered at creation.
    return (this.renderers.get(day ?? '') ?? this.renderers.get(''))!;
  }

  private cached(key: string, make: () => Record<string, string>): Readonly<Record<string, string>> {
    let headers = this.headers.get(key);
    if (headers === undefined) {
      headers = Object.freeze(make());
      // Keys are built from configured days and offered languages only: a bounded set.
      this.headers.set(key, headers);
    }
    return headers;
  }
}
