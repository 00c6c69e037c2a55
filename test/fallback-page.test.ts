import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../src/html.js';
import { createPageRenderer, renderFallbackPage } from '../src/fallback/page.js';
import type { FallbackPageContent } from '../src/fallback/page-options.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { TEXT_KEYS, type PageTexts } from '../src/fallback/texts/types.js';
import { attributeValues, expectBalanced, expectIe6Safe, expectNoEventHandlers, startTagAttributes } from './helpers/html.js';

const FULL: FallbackPageContent = {
  organisation: 'Acme Ltd',
  email: 'help@example.com',
  phone: '+44 (0)20 7946-0000',
  address: '1 High Street\nLittle Town\r\nAB1 2CD',
  hours: 'Mon-Fri 9:00-17:00\nSat 10:00-12:00',
  message: 'Our shop is open as usual.\nCall us any time.',
  lang: 'en-GB',
};

const TAGS = BUILT_IN_LANGUAGES.map((pack) => pack.tag);
const textsOf = (tag: string): PageTexts => BUILT_IN_LANGUAGES.find((pack) => pack.tag === tag)!.texts;
/** A text as the page shows it: escaped, placeholders filled in by the test. */
const shown = (text: string, values: Record<string, string> = {}) => escapeHtml(text).replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);

/** Every page a renderer makes: each language's fallback page in both phases, and its interstitial. */
function everyPage(content: FallbackPageContent): { tag: string; kind: string; html: string }[] {
  const renderer = createPageRenderer(content, { switchOff: '2027-03-01' });
  return renderer.languages.flatMap((tag) => [
    { tag, kind: 'page before', html: renderer.page(tag, 'before') },
    { tag, kind: 'page after', html: renderer.page(tag, 'after') },
    { tag, kind: 'interstitial', html: renderer.interstitial!(tag, '/shop/basket?item=1') },
  ]);
}

describe('renderFallbackPage: what IE 6 needs', () => {
  it.each<[string, FallbackPageContent | undefined]>([
    ['no argument', undefined],
    ['no options', {}],
    ['an empty organisation', { organisation: '' }],
    ['a blank organisation', { organisation: '   ' }],
    ['every option', FULL],
  ])('%s: UTF-8 without BOM, charset declared early, over 512 bytes, nothing fetched', (_label, content) => {
    expectIe6Safe(renderFallbackPage(content));
  });

  it.each(['no options', 'every option'])('every language, both phases and the interstitial (%s)', (label) => {
    const pages = everyPage(label === 'no options' ? {} : { ...FULL, lang: 'en' });
    expect(pages).toHaveLength(TAGS.length * 3);
    for (const { tag, kind, html } of pages) {
      try {
        expectIe6Safe(html);
      } catch (error) {
        throw new Error(`${tag} ${kind}: ${(error as Error).message}`);
      }
    }
  });

  it('stays over 512 bytes with the shortest texts an owner can write', () => {
    const tiny = Object.fromEntries(TEXT_KEYS.map((key) => [key, key.startsWith('contact') && key !== 'contactHeading' ? `{${key.slice(7).toLowerCase()}}` : /switchOff|interstitialExplanation/.test(key) ? '{date}' : 'x'])) as unknown as PageTexts;
    const renderer = createPageRenderer({ texts: { eo: tiny }, languages: ['eo'] }, { switchOff: '2027-03-01' });
    expectIe6Safe(renderer.page('eo'));
    expectIe6Safe(renderer.interstitial!('eo', '/'));
  });

  it('the IE 6 check can fail: a late charset, a BOM, a script and a short page are caught', () => {
    const page = renderFallbackPage();
    expect(() => expectIe6Safe(page.replace('<head>\n', `<head>\n<!-- ${'x'.repeat(1100)} -->\n`))).toThrow();
    expect(() => expectIe6Safe(page.replace('<head>\n', '<head>\n<!-- é -->\n'))).toThrow();
    expect(() => expectIe6Safe(`\ufeff${page}`)).toThrow();
    expect(() => expectIe6Safe(page.replace('</body>', '<script>x()</script></body>'))).toThrow();
    expect(() => expectIe6Safe(page.replace(/<style[\s\S]*<\/style>/, '<style></style>').replace(/<p[\s\S]*<\/p>/, ''))).toThrow();
  });
});

describe('renderFallbackPage: structure', () => {
  it.each<[string, FallbackPageContent]>([
    ['no options', {}],
    ['every option', FULL],
    ['only an e-mail', { email: 'a@b.example' }],
    ['only an address', { address: 'one\ntwo' }],
    ['only opening hours', { hours: '9-5' }],
    ['only a message', { message: 'hello' }],
  ])('balances its tags (%s)', (_label, content) => {
    const elements = expectBalanced(renderFallbackPage(content));
    expect(elements.slice(0, 2)).toEqual(['html', 'head']);
    for (const single of ['html', 'head', 'title', 'body', 'h1']) {
      expect(elements.filter((name) => name === single), `one <${single}>`).toHaveLength(1);
    }
    expect(elements.indexOf('title')).toBeLessThan(elements.indexOf('body'));
    expect(elements.lastIndexOf('meta')).toBeLessThan(elements.indexOf('body'));
    expect(elements.indexOf('h1')).toBeGreaterThan(elements.indexOf('body'));
  });

  it('the balance check catches broken markup (so the tests above can fail)', () => {
    expect(() => expectBalanced('<html><body><p>text</body></html>')).toThrow();
    expect(() => expectBalanced('<html><body><ul><li>x</ul></li></body></html>')).toThrow();
    expect(() => expectBalanced('<html><body><p>x</p>')).toThrow();
    expect(() => expectBalanced('<html><title>x</html>')).toThrow();
    expect(() => expectBalanced('<html><body><p>1 < <b>2</b></p></body></html>')).not.toThrow();
    expect(expectBalanced('<html><body><p>a <img src=x onerror=alert(1)> b</p></body></html>')).toContain('img');
  });

  it('is English by default, with lang="en" dir="ltr"', () => {
    const html = renderFallbackPage();
    expect(startTagAttributes(html, 'html')).toEqual(['lang="en" dir="ltr"']);
    expect(html).toContain(`<h1>${shown(textsOf('en').heading)}</h1>`);
    expect(html).toContain(`<title>${shown(textsOf('en').title)}</title>`);
  });

  it('renders the default language given by lang, keeping a more precise tag as the attribute', () => {
    const html = renderFallbackPage({ lang: 'fr-CA' });
    expect(startTagAttributes(html, 'html')).toEqual(['lang="fr-CA" dir="ltr"']);
    expect(html).toContain(`<h1>${shown(textsOf('fr').heading)}</h1>`);
    // pt-PT selects the Portuguese texts, which are Brazilian: the attribute says so.
    expect(startTagAttributes(renderFallbackPage({ lang: 'pt-PT' }), 'html')).toEqual(['lang="pt-BR" dir="ltr"']);
  });

  it('shows the organisation above the heading and after the title, not inside sentences', () => {
    const html = renderFallbackPage(FULL);
    expect(html).toContain(`<title>${shown(textsOf('en').title)} – Acme Ltd</title>`);
    expect(html).toContain('<p class="org">Acme Ltd</p>\n<h1>');
    expect(html.match(/Acme Ltd/g)).toHaveLength(2);
  });

  it('lists the contacts with mailto: and tel: links marked left-to-right', () => {
    const html = renderFallbackPage(FULL);
    const en = textsOf('en');
    expect(html).toContain(`<li>${shown(en.contactEmail, { email: '<a href="mailto:help@example.com" dir="ltr">help@example.com</a>' })}</li>`);
    expect(html).toContain(`<li>${shown(en.contactPhone, { phone: '<a href="tel:+4402079460000" dir="ltr">+44 (0)20 7946-0000</a>' })}</li>`);
    expect(html).toContain(`<h2>${shown(en.contactHeading)}</h2>`);
    expect(html).toContain(shown(en.contactHours, { hours: 'Mon-Fri 9:00-17:00<br>\nSat 10:00-12:00' }));
    expect(html).not.toContain(shown(en.noContact));
  });

  it('keeps the line breaks of the address and the message as <br>', () => {
    const html = renderFallbackPage(FULL);
    expect(html).toContain('1 High Street<br>\nLittle Town<br>\nAB1 2CD');
    expect(html).toContain('<p class="note">Our shop is open as usual.<br>\nCall us any time.</p>');
    expect(html).not.toContain('\r');
  });

  it('keeps non-ASCII text as UTF-8', () => {
    const html = renderFallbackPage({ organisation: 'Müller & Söhne', lang: 'de' });
    expect(html).toContain('Müller &amp; Söhne');
    expect(html).toContain(shown(textsOf('de').heading));
  });
});

describe('no contact detail configured', () => {
  it.each(TAGS)('%s: says how else to get in touch, and offers no link to call or write', (tag) => {
    const html = renderFallbackPage({ lang: tag });
    const texts = textsOf(tag);
    expect(html).toContain(`<h2>${shown(texts.contactHeading)}</h2>\n<p>${shown(texts.noContact)}</p>`);
    expect(attributeValues(html, 'href')).toEqual([]);
    expect(html).not.toContain('<ul>');
  });

  it('English: no telephone promised without a number', () => {
    const html = renderFallbackPage({ organisation: 'Acme Ltd' });
    expect(html).not.toMatch(/by telephone|call us/i);
    expect(html).toContain('contact details you already have from us');
  });

  it('opening hours alone are not a way to reach anyone: the page still says how to', () => {
    const html = renderFallbackPage({ hours: '9-5' });
    expect(html).toContain(shown(textsOf('en').noContact));
    expect(html).toContain(shown(textsOf('en').contactHours, { hours: '9-5' }));
  });

  it.each<[string, FallbackPageContent]>([
    ['an e-mail', { email: 'a@b.example' }],
    ['a phone number', { phone: '0100 000' }],
    ['an address', { address: 'Town Hall' }],
  ])('with %s, the contact list replaces the no-contact wording', (_label, content) => {
    const html = renderFallbackPage(content);
    expect(html).toContain('<ul>');
    expect(html).not.toContain(shown(textsOf('en').noContact));
  });
});

describe('every owner value is HTML-escaped', () => {
  const HOSTILE = `<img src=x onerror=alert(1)> "q" 'a' & </li></ul></div></body><script>alert(2)</script>`;
  const ESCAPED = escapeHtml(HOSTILE);

  /** Where each text appears when every contact detail is given. */
  function shownOn(key: string): string[] {
    if (key === 'switchOffBefore') return ['page before'];
    if (key === 'switchOffSince') return ['page after'];
    if (key === 'noContact') return [];
    if (key.startsWith('interstitial')) return ['interstitial'];
    if (key === 'footer' || key.startsWith('contact')) return ['page before', 'page after', 'interstitial'];
    return ['page before', 'page after'];
  }

  function expectInert(html: string): void {
    expect(html).not.toMatch(/<(img|script)\b/i);
    expectNoEventHandlers(html);
    expectBalanced(html);
    for (const href of attributeValues(html, 'href')) expect(href).toMatch(/^(mailto:|tel:|\/shop\/basket)/);
  }

  it.each(['organisation', 'address', 'hours', 'message'] as const)('escapes %s, as one string and per language, on every page', (key) => {
    for (const value of [HOSTILE, { en: HOSTILE, de: `${HOSTILE} de`, ja: `${HOSTILE} ja` }]) {
      for (const { tag, kind, html } of everyPage({ [key]: value, email: 'a@b.example' })) {
        if (key === 'message' && kind === 'interstitial') continue; // the message is for the fallback page
        if (key === 'hours' || key === 'address' || key === 'organisation') expect(html, `${tag} ${kind}`).toContain(ESCAPED);
        expectInert(html);
      }
    }
  });

  it('escapes the organisation in the <title> too', () => {
    const html = renderFallbackPage({ organisation: `</title><script>alert(1)</script>` });
    expect(html).toContain(`<title>${shown(textsOf('en').title)} – &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>`);
    expectInert(html);
  });

  it('escapes what an e-mail address may hold (\' and &) inside the href', () => {
    const html = renderFallbackPage({ email: "o'brien&co@x.example" });
    expect(html).toContain('href="mailto:o&#39;brien&amp;co@x.example"');
    expectInert(html);
  });

  it('keeps only digits and + in the tel: link', () => {
    const html = renderFallbackPage({ phone: '+1 (555) 0100' });
    expect(attributeValues(html, 'href')).toEqual(['tel:+15550100']);
  });

  it.each(TEXT_KEYS)('escapes the owner text %s, in a built-in language and in a language of their own', (key) => {
    const payload = (k: string) => `${HOSTILE}${k.startsWith('contact') && k !== 'contactHeading' ? `{${k.slice(7).toLowerCase()}}` : ''}${/switchOff|interstitialExplanation/.test(k) ? '{date}' : ''}{organisation}`;
    const own = Object.fromEntries(TEXT_KEYS.map((k) => [k, payload(k)])) as unknown as PageTexts;
    const content: FallbackPageContent = {
      organisation: HOSTILE,
      email: 'a@b.example',
      phone: '0100',
      address: 'x',
      hours: 'y',
      texts: { de: { [key]: payload(key) }, cy: own },
    };
    for (const { tag, kind, html } of everyPage(content)) {
      if (tag !== 'de' && tag !== 'cy') continue;
      expectInert(html);
      if (shownOn(key).includes(kind)) expect(html, `${tag} ${kind}`).toContain(ESCAPED);
    }
  });

  it('gives the same element structure for hostile and harmless values', () => {
    const structure = (content: FallbackPageContent) => expectBalanced(renderFallbackPage(content)).join(' ');
    const harmless = structure({ ...FULL, organisation: 'Acme', message: 'hello', address: 'street\ntown' });
    const hostile = structure({ ...FULL, organisation: HOSTILE, message: '<p><b>x</p>', address: '<br>street\n<hr>town' });
    expect(hostile).toBe(harmless);
  });
});

describe('per-language owner values', () => {
  it('shows each language its own text, and the default language\'s text marked with its lang elsewhere', () => {
    const renderer = createPageRenderer({ message: { en: 'Open as usual.', de: 'Wie gewohnt geöffnet.' }, lang: 'en-GB' });
    expect(renderer.page('de')).toContain('<p class="note">Wie gewohnt geöffnet.</p>');
    expect(renderer.page('en')).toContain('<p class="note">Open as usual.</p>');
    expect(renderer.page('fr')).toContain('<p class="note" lang="en-GB">Open as usual.</p>');
  });

  it('a string is the same in every language and carries no lang of its own', () => {
    const renderer = createPageRenderer({ organisation: 'Müller GmbH', lang: 'de' });
    for (const tag of renderer.languages) expect(renderer.page(tag)).toContain('<p class="org">Müller GmbH</p>');
  });

  it('an empty text for one language leaves the value out there', () => {
    const renderer = createPageRenderer({ message: { en: 'Closed on Monday.', ja: '' } });
    expect(renderer.page('ja')).not.toContain('class="note"');
    expect(renderer.page('de')).toContain('Closed on Monday.');
  });
});

describe('owner texts on the page', () => {
  it('replaces a built-in text and keeps the others', () => {
    const html = renderFallbackPage({ lang: 'de', texts: { de: { heading: 'Ihr Browser ist leider zu alt' } } });
    expect(html).toContain('<h1>Ihr Browser ist leider zu alt</h1>');
    expect(html).toContain(shown(textsOf('de').explanation));
  });

  it('fills {organisation} in an owner text, and then does not repeat it after the title', () => {
    const html = renderFallbackPage({ organisation: 'Acme', texts: { en: { title: 'Acme: old browser ({organisation})', explanation: 'Hello from {organisation}.\nSecond line.' } } });
    expect(html).toContain('<title>Acme: old browser (Acme)</title>');
    expect(html).toContain('<p>Hello from Acme.<br>\nSecond line.</p>');
  });

  it('an empty optional text removes its paragraph or heading', () => {
    const html = renderFallbackPage({ email: 'a@b.example', texts: { en: { reassurance: '', footer: '', wholeSiteHeading: '' } } });
    expect(html).not.toContain(shown(textsOf('en').reassurance));
    expect(html).not.toContain('class="small"');
    expect(html).not.toContain('<p></p>');
    expect(html).not.toContain('<h2></h2>');
    expect(expectBalanced(html).filter((e) => e === 'h2')).toHaveLength(1);
  });

  it('sets dir="rtl" for a right-to-left language of the owner, and flips the layout', () => {
    const own = Object.fromEntries(TEXT_KEYS.map((k) => [k, textsOf('en')[k]])) as unknown as PageTexts;
    const renderer = createPageRenderer({ texts: { ar: own, 'az-Arab': own, 'ug-Cyrl': own, fa: own, he: own, cy: own }, email: 'a@b.example' });
    const dirOf = (tag: string) => startTagAttributes(renderer.page(tag), 'html')[0];
    expect(dirOf('ar')).toBe('lang="ar" dir="rtl"');
    expect(dirOf('az-Arab')).toBe('lang="az-Arab" dir="rtl"');
    expect(dirOf('fa')).toBe('lang="fa" dir="rtl"');
    expect(dirOf('he')).toBe('lang="he" dir="rtl"');
    expect(dirOf('ug-Cyrl')).toBe('lang="ug-Cyrl" dir="ltr"');
    expect(dirOf('cy')).toBe('lang="cy" dir="ltr"');
    expect(renderer.page('ar')).toContain('border-right: 4px');
    expect(renderer.page('cy')).toContain('border-left: 4px');
    // The address keeps its left-to-right order inside a right-to-left page.
    expect(renderer.page('ar')).toContain('<a href="mailto:a@b.example" dir="ltr">');
  });
});

describe('createPageRenderer', () => {
  it('offers every built-in language, English first and default', () => {
    const renderer = createPageRenderer();
    expect(renderer.languages).toEqual(TAGS);
    expect(renderer.defaultLanguage).toBe('en');
    for (const tag of TAGS) {
      expect(renderer.page(tag)).toContain(`<h1>${shown(textsOf(tag).heading)}</h1>`);
      expect(renderer.contentLanguage(tag)).toBe(tag);
    }
  });

  it('renders the default language exactly as renderFallbackPage does', () => {
    expect(createPageRenderer(FULL).page('en')).toBe(renderFallbackPage(FULL));
    expect(createPageRenderer({ lang: 'ja' }).page('ja')).toBe(renderFallbackPage({ lang: 'ja' }));
  });

  it('offers only the owner\'s languages, the first as default, and their own language first among equals', () => {
    const own = Object.fromEntries(TEXT_KEYS.map((k) => [k, textsOf('pt-BR')[k]])) as unknown as PageTexts;
    const renderer = createPageRenderer({ languages: ['pt-PT', 'pt-BR', 'en'], texts: { 'pt-PT': { ...own, heading: 'O seu browser é demasiado antigo' } } });
    expect(renderer.languages).toEqual(['pt-PT', 'pt-BR', 'en']);
    expect(renderer.defaultLanguage).toBe('pt-PT');
    expect(renderer.negotiate('pt')).toBe('pt-PT');
    expect(renderer.negotiate('pt-BR')).toBe('pt-BR');
    expect(renderer.negotiate('de')).toBe('pt-PT');
    expect(renderer.page('pt-PT')).toContain('<h1>O seu browser é demasiado antigo</h1>');
    expect(renderer.page('de')).toBe(renderer.page('pt-PT'));
  });

  it('gives the default page for a language it does not offer, never throws', () => {
    const renderer = createPageRenderer({ lang: 'de' });
    expect(renderer.page('xx')).toBe(renderer.page('de'));
    expect(renderer.page('')).toBe(renderer.page('de'));
    expect(renderer.contentLanguage('xx')).toBe('de');
  });

  it('without a switch-off date: no date sentence in either phase, and no interstitial', () => {
    const renderer = createPageRenderer();
    expect(renderer.page('en', 'before')).toBe(renderer.page('en', 'after'));
    expect(renderer.interstitial).toBeUndefined();
  });

  it('negotiates through a bounded cache that stays right after it is cleared', () => {
    const renderer = createPageRenderer();
    const headers = Array.from({ length: 700 }, (_, i) => `${TAGS[i % TAGS.length]!};q=0.${(i % 9) + 1}, xx-${i}`);
    const first = headers.map((h) => renderer.negotiate(h));
    expect(first).toEqual(headers.map((_, i) => TAGS[i % TAGS.length]));
    expect(headers.map((h) => renderer.negotiate(h))).toEqual(first);
  });

  it('is not changed by mutating the options afterwards', () => {
    const content = { organisation: 'Before', texts: { en: { heading: 'Before' } } };
    const renderer = createPageRenderer(content);
    content.organisation = 'After';
    content.texts.en.heading = 'After';
    expect(renderer.page('en')).toContain('<h1>Before</h1>');
    expect(renderer.page('en')).not.toContain('After');
  });
});
