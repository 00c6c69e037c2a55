import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { renderFallbackPage } from '../src/index.js';
import { legacyTlsFallback } from '../src/koa/index.js';
import { createPageRenderer } from '../src/fallback/page.js';
import { checkPageContent, hasContactDetails, resolvePageContent, resolveSwitchOffDate, type FallbackPageContent } from '../src/fallback/page-options.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { TEXT_KEYS, type PageTexts } from '../src/fallback/texts/types.js';

const ENGLISH = BUILT_IN_LANGUAGES[0]!.texts;
const complete = (changes: Partial<PageTexts> = {}): PageTexts => ({ ...ENGLISH, ...changes });

function optionError(page: unknown): InvalidOptionError {
  try {
    resolvePageContent(page);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error(`no error for ${JSON.stringify(page)}`);
}

describe('page options: what keeps working', () => {
  it('accepts every option of before, unchanged in meaning', () => {
    const content = { organisation: 'Acme', email: 'help@example.com', phone: '+44 20 7946 0000', address: 'a\nb', hours: '9-5', message: 'hi', lang: 'fr-CA' };
    expect(() => legacyTlsFallback({ page: content })).not.toThrow();
    const page = resolvePageContent(content);
    expect(page.defaultLanguage.tag).toBe('fr');
    expect(page.defaultLanguage.lang).toBe('fr-CA');
    expect(page.message(page.defaultLanguage)).toEqual({ text: 'hi' });
  });

  it('validates through the middleware with the same errors', () => {
    expect(() => legacyTlsFallback({ page: { texts: { de: { haeding: 'x' } } } as FallbackPageContent })).toThrow(/`page\.texts\.de\.haeding` is not an option here; did you mean `heading`\?/);
    expect(() => legacyTlsFallback({ page: { lang: 'cy' } })).toThrow(InvalidOptionError);
  });

  it('renderFallbackPage validates its argument as the middleware does', () => {
    expect(() => renderFallbackPage({ lang: 'en"><script>' })).toThrow(/option `page\.lang`/);
    expect(() => renderFallbackPage({ email: 'a"b@x' })).toThrow(/option `page\.email`/);
  });

  it('checkPageContent returns a frozen copy the renderer does not validate again', () => {
    const original = { organisation: 'Acme', texts: { de: { heading: 'Hallo' } } };
    const copy = checkPageContent(original);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy.texts!.de)).toBe(true);
    expect(resolvePageContent(copy)).toBe(resolvePageContent(copy));
  });
});

describe('page options: texts', () => {
  it('names an unknown text key and suggests the closest', () => {
    const error = optionError({ texts: { de: { haeding: 'x' } } });
    expect(error.option).toBe('page.texts.de.haeding');
    expect(error.message).toContain('did you mean `heading`?');
  });

  it('names every missing key of a language of the owner', () => {
    const error = optionError({ texts: { cy: { title: 'Teitl', heading: 'Pennawd' } } });
    expect(error.option).toBe('page.texts.cy');
    const missing = TEXT_KEYS.filter((key) => key !== 'title' && key !== 'heading');
    expect(error.message).toContain(`missing: ${missing.join(', ')}`);
    expect(error.message).not.toContain('missing: title');
  });

  it.each([
    ['zh-CN', 'zh-Hans'],
    ['pt', 'pt-BR'],
    ['de-AT', 'de'],
  ])('points %s, a partial new language, to the built-in %s it was likely meant for', (tag, builtIn) => {
    const error = optionError({ texts: { [tag]: { heading: 'x' } } });
    expect(error.option).toBe(`page.texts.${tag}`);
    expect(error.message).toContain(`use page.texts['${builtIn}']`);
  });

  it('treats any spelling of a built-in tag as that language', () => {
    const page = resolvePageContent({ texts: { 'PT-br': { heading: 'Navegador antigo' }, 'zh-hans': { heading: '旧浏览器' } } });
    expect(page.languages.find((l) => l.tag === 'pt-BR')!.texts.heading).toBe('Navegador antigo');
    expect(page.languages.find((l) => l.tag === 'zh-Hans')!.texts.heading).toBe('旧浏览器');
    expect(page.languages).toHaveLength(BUILT_IN_LANGUAGES.length);
  });

  it('refuses the same language twice under two spellings', () => {
    const error = optionError({ texts: { de: { heading: 'a' }, DE: { heading: 'b' } } });
    expect(error.option).toBe('page.texts.DE');
    expect(error.message).toContain('given twice');
  });

  it.each([
    ['a misspelt placeholder', { contactEmail: 'Mail: {emial}' }, 'page.texts.en.contactEmail', 'did you mean {email}?'],
    ['a placeholder of another line', { contactPhone: 'Call {phone} or write {email}' }, 'page.texts.en.contactPhone', '{email} is not a placeholder of this text'],
    ['a date where none is known', { heading: 'Until {date}' }, 'page.texts.en.heading', '{date} is not a placeholder of this text'],
    ['a missing required placeholder', { contactEmail: 'Write to us' }, 'page.texts.en.contactEmail', 'it must contain {email}'],
    ['the date sentence without the date', { switchOffBefore: 'Soon.' }, 'page.texts.en.switchOffBefore', 'it must contain {date}, where the switch-off date goes'],
    ['an empty heading', { heading: '  ' }, 'page.texts.en.heading', 'may not be empty'],
    ['an empty link', { interstitialContinue: '' }, 'page.texts.en.interstitialContinue', 'may not be empty'],
    ['a number', { heading: 42 }, 'page.texts.en.heading', 'expected a string'],
    ['a control character', { heading: 'a\u0007b' }, 'page.texts.en.heading', 'without control characters'],
    ['a NUL', { footer: 'a\u0000b' }, 'page.texts.en.footer', 'without control characters'],
    ['an endless text', { footer: 'x'.repeat(2001) }, 'page.texts.en.footer', 'at most 2000 characters'],
  ])('refuses %s', (_label, texts, option, says) => {
    const error = optionError({ email: 'a@b.example', texts: { en: texts } });
    expect(error.option).toBe(option);
    expect(error.message).toContain(says);
    expect(error.message).toContain(`option \`${option}\``);
  });

  it('refuses {organisation} when there is no organisation', () => {
    const error = optionError({ texts: { en: { footer: 'From {organisation}.' } } });
    expect(error.option).toBe('page.texts.en.footer');
    expect(error.message).toContain('page.organisation is not set');
    expect(() => resolvePageContent({ organisation: 'Acme', texts: { en: { footer: 'From {organisation}.' } } })).not.toThrow();
  });

  it('takes literal braces that are no placeholder', () => {
    expect(renderFallbackPage({ texts: { en: { footer: 'Set {x-y} and {} and { date }.' } } })).toContain('Set {x-y} and {} and { date }.');
  });

  it('accepts CR LF line breaks and tabs, and normalises them', () => {
    expect(renderFallbackPage({ texts: { en: { footer: 'one\r\ntwo\tthree' } } })).toContain('one<br>\ntwo\tthree');
  });

  it('refuses a key that is no language tag, and texts that are not an object', () => {
    expect(optionError({ texts: { 'not a tag': complete() } }).option).toBe('page.texts.not a tag');
    expect(optionError({ texts: { 'x-private': complete() } }).option).toBe('page.texts.x-private');
    expect(optionError({ texts: { en: 'Hello' } }).option).toBe('page.texts.en');
    expect(optionError({ texts: ['en'] }).option).toBe('page.texts');
  });
});

describe('page options: languages and the default', () => {
  it('offers the owner\'s languages first, then the built-in ones; English stays the default', () => {
    const page = resolvePageContent({ texts: { cy: complete() } });
    expect(page.languages.map((l) => l.tag)).toEqual(['cy', ...BUILT_IN_LANGUAGES.map((p) => p.tag)]);
    expect(page.defaultLanguage.tag).toBe('en');
  });

  it('offers only the languages listed, the first as default', () => {
    const page = resolvePageContent({ languages: ['de', 'fr', 'en'] });
    expect(page.languages.map((l) => l.tag)).toEqual(['de', 'fr', 'en']);
    expect(page.defaultLanguage.tag).toBe('de');
    expect(resolvePageContent({ languages: ['de', 'fr', 'en'], lang: 'en-GB' }).defaultLanguage.lang).toBe('en-GB');
  });

  it.each([
    [['zh-CN'], "did you mean 'zh-Hans'?"],
    [['pt'], "did you mean 'pt-BR'?"],
    [['de', 'ej'], "did you mean 'en'?"],
    [['cy'], 'add a language with page.texts'],
  ])('names a listed language without texts (%j)', (languages, says) => {
    const error = optionError({ languages });
    expect(error.option).toBe(`page.languages[${languages.length - 1}]`);
    expect(error.message).toContain('there are no texts for it');
    expect(error.message).toContain(says);
  });

  it.each([
    [[], 'page.languages'],
    ['de', 'page.languages'],
    [['de', 'de'], 'page.languages[1]'],
    [['de', 'DE'], 'page.languages[1]'],
    [['de', 42], 'page.languages[1]'],
  ])('refuses languages = %j', (languages, option) => {
    expect(optionError({ languages }).option).toBe(option);
  });

  it('refuses texts for a language left out of languages', () => {
    const error = optionError({ languages: ['en'], texts: { de: { heading: 'x' } } });
    expect(error.option).toBe('page.languages');
    expect(error.message).toContain("it leaves out 'de'");
  });

  it('refuses a default language that is not offered, saying how to add it', () => {
    const error = optionError({ lang: 'cy' });
    expect(error.option).toBe('page.lang');
    expect(error.message).toContain("there are no texts for 'cy': add them with page.texts['cy']");
    expect(optionError({ lang: 'ja', languages: ['en', 'de'] }).message).toContain('choose one of en, de');
  });

  it.each(['english', 'en"><script>', 'e', '', 'en-', 'x-private'])('refuses lang = %j', (lang) => {
    expect(optionError({ lang }).option).toBe('page.lang');
  });
});

describe('page options: values per language', () => {
  it.each(['organisation', 'address', 'hours', 'message'] as const)('%s: refuses a language that is not offered, with a suggestion', (key) => {
    const error = optionError({ [key]: { en: 'x', 'zh-CN': 'y' } });
    expect(error.option).toBe(`page.${key}.zh-CN`);
    expect(error.message).toContain("did you mean 'zh-Hans'?");
  });

  it.each(['organisation', 'address', 'hours', 'message'] as const)('%s: needs the default language, shown where a language has none', (key) => {
    const error = optionError({ [key]: { de: 'x' } });
    expect(error.option).toBe(`page.${key}`);
    expect(error.message).toContain("default language 'en'");
    expect(() => resolvePageContent({ [key]: { de: 'x' }, lang: 'de' })).not.toThrow();
  });

  it.each(['organisation', 'address', 'hours', 'message'] as const)('%s: refuses control characters (a NUL would corrupt the page), keeps line breaks', (key) => {
    expect(optionError({ [key]: 'a\u0000href\u0000b' }).option).toBe(`page.${key}`);
    expect(optionError({ [key]: { en: 'ok', de: 'a\u001bb' } }).option).toBe(`page.${key}.de`);
    expect(() => resolvePageContent({ [key]: 'one\r\ntwo\tthree' })).not.toThrow();
  });

  it.each([42, ['a'], null, { en: 42 }])('refuses message = %j', (message) => {
    expect(optionError({ message }).option).toMatch(/^page\.message/);
  });
});

describe('page options: e-mail and phone', () => {
  it.each(['not an email', 'a"b@x', '<a@b>', 'a @b', 'a\u0000@b.example'])('refuses the e-mail %j', (email) => {
    expect(optionError({ email }).option).toBe('page.email');
  });

  it.each(['<script>', 'call me', '12', '+1'.padEnd(50, '0')])('refuses the phone %j', (phone) => {
    expect(optionError({ phone }).option).toBe('page.phone');
  });
});

describe('hasContactDetails (for the start-up warning)', () => {
  it('is false with nothing, blanks, or only opening hours', () => {
    expect(hasContactDetails({})).toBe(false);
    expect(hasContactDetails({ email: ' ', address: '' })).toBe(false);
    expect(hasContactDetails({ hours: '9-5' } as FallbackPageContent)).toBe(false);
  });

  it('is true with an e-mail, a phone or an address (also per language)', () => {
    expect(hasContactDetails({ email: 'a@b.example' })).toBe(true);
    expect(hasContactDetails({ phone: '0100' })).toBe(true);
    expect(hasContactDetails({ address: { en: 'Town Hall' } })).toBe(true);
  });
});

describe('the switch-off date option', () => {
  it('is a calendar day at midnight UTC', () => {
    expect(resolveSwitchOffDate('2027-03-01')!.toISOString()).toBe('2027-03-01T00:00:00.000Z');
    expect(resolveSwitchOffDate(undefined)).toBeUndefined();
  });

  it.each(['2027-02-30', '2027-13-01', '27-03-01', '2027-3-1', '2027-03-01T00:00:00Z', ' 2027-03-01', '1999-12-31', 20270301, new Date(0)])('refuses %j, naming the option and the format', (value) => {
    expect(() => resolveSwitchOffDate(value, 'hosts.api.switchOff')).toThrow(/option `hosts\.api\.switchOff`.*'YYYY-MM-DD'/);
  });

  it('createPageRenderer takes it as a string or a Date at midnight UTC, and refuses others', () => {
    expect(createPageRenderer({}, { switchOff: new Date(Date.UTC(2027, 2, 1)) }).interstitial).toBeTypeOf('function');
    expect(() => createPageRenderer({}, { switchOff: new Date(Date.UTC(2027, 2, 1, 12)) })).toThrow(/option `switchOff`/);
    expect(() => createPageRenderer({}, { switchOff: new Date(Number.NaN) })).toThrow(/option `switchOff`/);
    expect(() => createPageRenderer({}, { switchOff: '1 March 2027' })).toThrow(/option `switchOff`/);
    expect(() => createPageRenderer({}, { switchof: '2027-03-01' } as never)).toThrow(/did you mean `switchOff`/);
  });
});
