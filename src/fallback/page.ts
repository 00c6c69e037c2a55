import { escapeHtml } from '../html.js';
import { InvalidOptionError } from '../errors.js';
import { assertKnownKeys, assertPlainObject } from '../schema/checks.js';
import { prepareInterstitial } from './interstitial.js';
import { contactItems, reachable, fillHtml, fillText, lines, organisationLine, organisationValues, paragraph, renderDocument, subheading } from './layout.js';
import { createNegotiator } from './negotiate.js';
import {
  placeholdersIn,
  resolvePageContent,
  resolveSwitchOffDate,
  type FallbackPageContent,
  type ResolvedLanguage,
  type ResolvedPageContent,
} from './page-options.js';

/** Whether the switch-off date is still ahead (`before`) or has come (`after`). */
export type SwitchOffPhase = 'before' | 'after';

export interface PageRendererOptions {
  /** The switch-off date (`'2027-03-01'`, or a `Date` at midnight UTC): shown on the page, and needed for the interstitial. */
  switchOff?: string | Date;
}

/** Every built-in page, rendered once per language at creation: a request costs a lookup. */
export interface PageRenderer {
  /** The offered languages, in order. */
  readonly languages: readonly string[];
  readonly defaultLanguage: string;
  /** The offered language for an `Accept-Language` header (the default when none matches). Never throws. */
  negotiate(acceptLanguage: unknown): string;
  /** The `Content-Language` of that language's pages (its `lang` attribute). */
  contentLanguage(language: string): string;
  /** The fallback page in `language` (an unknown one gives the default). `phase` picks the date sentence. */
  page(language: string, phase?: SwitchOffPhase): string;
  /** The interstitial in `language`, linking on to `continueHref` (a path on this site); only with a `switchOff` date. */
  readonly interstitial: ((language: string, continueHref: string) => string) | undefined;
}

/** The negotiation results kept per header value; browsers send few distinct ones. */
const NEGOTIATION_CACHE_SIZE = 256;
const CACHEABLE_HEADER_LENGTH = 256;

/**
 * The built-in fallback page in the default language (`content.lang`, else English). Validates `content`
 * as the `page` option is validated (an `InvalidOptionError` names the problem).
 */
export function renderFallbackPage(content: FallbackPageContent = {}): string {
  const page = resolvePageContent(content);
  return renderPage(page, page.defaultLanguage, '');
}

/** Validates the page options once and renders every offered language's pages. */
export function createPageRenderer(content: FallbackPageContent = {}, options: PageRendererOptions = {}): PageRenderer {
  const page = resolvePageContent(content);
  assertPlainObject(options as unknown, 'options');
  assertKnownKeys(options as Record<string, unknown>, ['switchOff'], '');
  const switchOff = options.switchOff instanceof Date ? checkedDate(options.switchOff) : resolveSwitchOffDate(options.switchOff);

  const pages = new Map<string, Record<SwitchOffPhase, string>>();
  const interstitials = new Map<string, (continueHref: string) => string>();
  for (const language of page.languages) {
    if (switchOff === undefined) {
      const html = renderPage(page, language, '');
      pages.set(language.tag, { before: html, after: html });
      continue;
    }
    const date = { date: escapeHtml(language.formatDate(switchOff)), ...organisationValues(page, language).html };
    pages.set(language.tag, {
      before: renderPage(page, language, paragraph(language.texts.switchOffBefore, date)),
      after: renderPage(page, language, paragraph(language.texts.switchOffSince, date)),
    });
    interstitials.set(language.tag, prepareInterstitial(page, language, switchOff));
  }

  const defaultTag = page.defaultLanguage.tag;
  const tags = page.languages.map((l) => l.tag);
  const langs = new Map(page.languages.map((l) => [l.tag, l.lang]));
  const negotiator = createNegotiator(tags, defaultTag);
  const cache = new Map<string, string>();

  return {
    languages: tags,
    defaultLanguage: defaultTag,
    negotiate(acceptLanguage) {
      if (typeof acceptLanguage !== 'string' || acceptLanguage.length > CACHEABLE_HEADER_LENGTH) return negotiator(acceptLanguage);
      let language = cache.get(acceptLanguage);
      if (language === undefined) {
        language = negotiator(acceptLanguage);
        if (cache.size >= NEGOTIATION_CACHE_SIZE) cache.clear();
        cache.set(acceptLanguage, language);
      }
      return language;
    },
    contentLanguage: (language) => langs.get(language) ?? langs.get(defaultTag)!,
    page: (language, phase = 'after') => (pages.get(language) ?? pages.get(defaultTag)!)[phase === 'before' ? 'before' : 'after'],
    interstitial: switchOff === undefined
      ? undefined
      : (language, continueHref) => (interstitials.get(language) ?? interstitials.get(defaultTag)!)(continueHref),
  };
}

/** The fallback page in one language; `dateSentence` is the switch-off paragraph, already HTML. */
function renderPage(page: ResolvedPageContent, language: ResolvedLanguage, dateSentence: string): string {
  const { texts } = language;
  const organisation = organisationValues(page, language);
  const values = organisation.html;
  const title = organisation.text.organisation !== undefined && !placeholdersIn(texts.title).includes('organisation')
    ? `${fillText(texts.title, organisation.text)} – ${organisation.text.organisation}`
    : fillText(texts.title, organisation.text);
  const message = page.message(language);
  const items = contactItems(page, language, values);
  const body = organisationLine(page, language)
    + `<h1>${fillHtml(texts.heading, values)}</h1>\n`
    + paragraph(texts.explanation, values)
    + dateSentence
    + paragraph(texts.reassurance, values)
    + (message ? `<p class="note"${message.lang === undefined ? '' : ` lang="${escapeHtml(message.lang)}"`}>${lines(message.text)}</p>\n` : '')
    + subheading(texts.contactHeading, values)
    // Without an e-mail, phone or address, say honestly how else to get in touch, not "call us".
    + (reachable(page, language) ? '' : paragraph(texts.noContact, values))
    + (items.length > 0 ? `<ul>\n${items.join('\n')}\n</ul>\n` : '')
    + subheading(texts.wholeSiteHeading, values)
    + paragraph(texts.wholeSite, values)
    + paragraph(texts.footer, values, 'small');
  return renderDocument(language, title, body);
}

function checkedDate(date: Date): Date {
  const time = date.getTime();
  if (Number.isNaN(time) || time % 86_400_000 !== 0) {
    throw new InvalidOptionError('switchOff', date, "expected a day as 'YYYY-MM-DD' (or a Date at midnight UTC), such as '2027-03-01'");
  }
  return date;
}
