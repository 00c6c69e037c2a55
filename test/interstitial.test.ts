import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../src/html.js';
import { MAX_CONTINUE_HREF_LENGTH, safeContinueHref } from '../src/fallback/interstitial.js';
import { createPageRenderer } from '../src/fallback/page.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { attributeValues, expectBalanced, expectIe6Safe, expectNoEventHandlers } from './helpers/html.js';

const renderer = createPageRenderer({ organisation: 'Acme', email: 'help@example.com', message: 'Not on the interstitial.' }, { switchOff: '2027-03-01' });
const interstitial = renderer.interstitial!;

describe('the switch-off interstitial', () => {
  it.each(BUILT_IN_LANGUAGES.map((pack) => [pack.tag, pack] as const))('%s: date, explanation, advice and a plain link on', (tag, pack) => {
    const html = interstitial(tag, '/shop/basket?id=7&x=1');
    expectIe6Safe(html);
    const { texts } = pack;
    expect(html).toContain(`<title>${escapeHtml(texts.interstitialHeading)} – Acme</title>`);
    expect(html).toContain(`<h1>${escapeHtml(texts.interstitialHeading)}</h1>`);
    const [before, after] = texts.interstitialExplanation.split('{date}');
    expect(html).toContain(escapeHtml(before!));
    expect(html).toContain(escapeHtml(after!.slice(0, 20)));
    expect(html).toContain(escapeHtml(texts.interstitialAdvice));
    expect(html).toContain(escapeHtml(texts.interstitialUntilThen));
    expect(html).toContain(`<p class="continue"><a href="/shop/basket?id=7&amp;x=1">${escapeHtml(texts.interstitialContinue)}</a></p>`);
    expect(attributeValues(html, 'href')).toEqual(['/shop/basket?id=7&amp;x=1', 'mailto:help@example.com']);
    expect(html).toContain(escapeHtml(texts.footer));
    // The owner's message belongs on the fallback page; the interstitial stays short.
    expect(html).not.toContain('Not on the interstitial.');
    expectBalanced(html);
  });

  it('lists the contacts only when there are some, without the no-contact wording', () => {
    const bare = createPageRenderer({}, { switchOff: '2027-03-01' }).interstitial!('en', '/');
    const en = BUILT_IN_LANGUAGES[0]!.texts;
    expect(bare).not.toContain(en.contactHeading);
    expect(bare).not.toContain(escapeHtml(en.noContact));
    expect(attributeValues(bare, 'href')).toEqual(['/']);
  });

  it('changes only the link from one request to the next', () => {
    const a = interstitial('de', '/a');
    const b = interstitial('de', '/b');
    expect(a.replace('href="/a"', 'href="/b"')).toBe(b);
    expect(interstitial('de', '/a')).toBe(a);
  });

  it('falls back to the default language for one it does not offer', () => {
    expect(interstitial('xx', '/')).toBe(interstitial('en', '/'));
  });

  it('follows the owner\'s texts and a right-to-left language', () => {
    const own = { ...BUILT_IN_LANGUAGES[0]!.texts, interstitialContinue: 'المتابعة إلى الموقع', interstitialHeading: 'تنبيه {date}' };
    const html = createPageRenderer({ texts: { ar: own } }, { switchOff: '2027-03-01' }).interstitial!('ar', '/');
    expect(html).toContain('<html lang="ar" dir="rtl">');
    expect(html).toContain('<a href="/">المتابعة إلى الموقع</a>');
    expect(html).toMatch(/<h1>تنبيه [^<]*2027[^<]*<\/h1>/);
  });
});

describe('the continue link is built from the request: hostile input', () => {
  it.each([
    ['a path', '/shop', '/shop'],
    ['a path and query', '/a/b?c=d&e=f', '/a/b?c=d&e=f'],
    ['a percent-encoded path', '/%C3%A4?q=%22', '/%C3%A4?q=%22'],
    ['quotes and angle brackets (escaped, not dropped)', '/x?"><script>alert(1)</script>', '/x?"><script>alert(1)</script>'],
    ['javascript:', 'javascript:alert(1)', '/'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>', '/'],
    ['another host', '//evil.example/', '/'],
    ['another host, backslashed', '/\\evil.example/', '/'],
    ['a backslash further on', '/a\\..\\b', '/'],
    ['an absolute URL', 'https://evil.example/', '/'],
    ['a relative path', 'shop', '/'],
    ['an empty string', '', '/'],
    ['a tab inside the scheme', '/\t/evil.example', '/'],
    ['CR LF', '/a\r\nSet-Cookie: x=1', '/'],
    ['a NUL', '/a\u0000b', '/'],
    ['a space', '/a b', '/'],
    ['a non-breaking space', '/a\u00a0b', '/'],
    ['something that is not a string', { toString: (): string => '/x' }, '/'],
    ['one character over the bound', `/${'a'.repeat(MAX_CONTINUE_HREF_LENGTH)}`, '/'],
  ])('%s', (_label, href, expected) => {
    expect(safeContinueHref(href)).toBe(expected);
    const html = interstitial('en', href as string);
    expect(attributeValues(html, 'href')[0]).toBe(escapeHtml(expected));
    expect(html).not.toMatch(/<script/i);
    expectNoEventHandlers(html);
    expectBalanced(html);
  });

  it(`takes a link of exactly ${MAX_CONTINUE_HREF_LENGTH} characters`, () => {
    const href = `/${'a'.repeat(MAX_CONTINUE_HREF_LENGTH - 1)}`;
    expect(safeContinueHref(href)).toBe(href);
  });
});
