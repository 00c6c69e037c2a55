import { escapeHtml } from '../html.js';
import { hasControlCharacters } from '../schema/checks.js';
import { contactItems, reachable, fillHtml, fillText, organisationLine, organisationValues, paragraph, renderDocument, subheading } from './layout.js';
import { placeholdersIn, type ResolvedLanguage, type ResolvedPageContent } from './page-options.js';

/** Longest "continue" link accepted; a longer one is replaced by the site's root. */
export const MAX_CONTINUE_HREF_LENGTH = 2048;

// Marks where the link goes while the page is rendered once; owner texts cannot hold a NUL.
const HREF_MARK = '\u0000href\u0000';

/**
 * The notice shown to a legacy client before the switch-off date: the fallback page's design, the date,
 * what to do, and a plain link on to the page they asked for. No script, no form: it works in IE 6.
 * Rendered once per language; a request costs escaping its link and joining three strings.
 */
export function prepareInterstitial(page: ResolvedPageContent, language: ResolvedLanguage, switchOff: Date): (continueHref: string) => string {
  const { texts } = language;
  const organisation = organisationValues(page, language);
  const date = language.formatDate(switchOff);
  const html = { ...organisation.html, date: escapeHtml(date) };
  const heading = fillText(texts.interstitialHeading, { ...organisation.text, date });
  const title = organisation.text.organisation !== undefined && !placeholdersIn(texts.interstitialHeading).includes('organisation')
    ? `${heading} – ${organisation.text.organisation}`
    : heading;
  const contacts = reachable(page, language) ? contactItems(page, language, organisation.html) : [];
  const body = organisationLine(page, language)
    + `<h1>${fillHtml(texts.interstitialHeading, html)}</h1>\n`
    + paragraph(texts.interstitialExplanation, html)
    + paragraph(texts.interstitialAdvice, html)
    + paragraph(texts.interstitialUntilThen, html)
    + `<p class="continue"><a href="${HREF_MARK}">${fillHtml(texts.interstitialContinue, html)}</a></p>\n`
    + (contacts.length > 0 ? `${subheading(texts.contactHeading, organisation.html)}<ul>\n${contacts.join('\n')}\n</ul>\n` : '')
    + paragraph(texts.footer, organisation.html, 'small');
  const parts = renderDocument(language, title, body).split(HREF_MARK);
  // Owner values cannot hold a NUL (refused at creation), so the mark is where the link goes, once.
  if (parts.length !== 2) throw new Error('legacy-tls-fallback: the interstitial link mark appears more than once');
  const [before = '', after = ''] = parts;
  return (continueHref) => before + escapeHtml(safeContinueHref(continueHref)) + after;
}

/**
 * The link target if it is a path on this site (`/shop?x=1`), else `/`. It is built from the request,
 * so it is treated as hostile: no scheme (`javascript:`), no other host (`//evil.example`, `/\evil`),
 * nothing unbounded.
 */
export function safeContinueHref(href: unknown): string {
  if (typeof href !== 'string' || href.length > MAX_CONTINUE_HREF_LENGTH) return '/';
  if (!href.startsWith('/') || href.startsWith('//') || /[\\\s]/.test(href) || hasControlCharacters(href)) return '/';
  return href;
}
