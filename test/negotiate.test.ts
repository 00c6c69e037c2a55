import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparableTag, createNegotiator, MAX_ACCEPT_LANGUAGE_LENGTH, MAX_LANGUAGE_RANGES, negotiateLanguage, parseAcceptLanguage } from '../src/fallback/negotiate.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';

const BUILT_IN = BUILT_IN_LANGUAGES.map((pack) => pack.tag);
const pick = (header: unknown, available: readonly string[] = BUILT_IN, fallback = 'en') => negotiateLanguage(header, available, fallback);

describe('negotiateLanguage: RFC 9110 §12.5.4 / RFC 4647 lookup', () => {
  it.each([
    ['de', 'de'],
    ['DE', 'de'],
    ['de-CH', 'de'],
    ['de-ch', 'de'],
    ['de_AT', 'de'],
    ['fr-CA,fr;q=0.9,en;q=0.8', 'fr'],
    ['en-US,en;q=0.9', 'en'],
    ['ja-JP', 'ja'],
    ['tr-TR,tr;q=0.9', 'tr'],
    ['nl-BE', 'nl'],
    ['ru-RU,ru;q=0.9,en-US;q=0.8', 'ru'],
    ['pl', 'pl'],
    // A private-use or extension singleton is dropped with what follows it.
    ['de-x-foo', 'de'],
    ['it-u-ca-gregory', 'it'],
  ])('%s → %s', (header, expected) => {
    expect(pick(header)).toBe(expected);
  });

  it('follows q-values, not header order', () => {
    expect(pick('fr;q=0.5, de;q=0.8')).toBe('de');
    expect(pick('fr;q=0.001, xx, de;q=0.002')).toBe('de');
    expect(pick('fr;Q=0.5, de;q=0.4')).toBe('fr');
  });

  it('keeps header order between equal q-values', () => {
    expect(pick('fr;q=0.8, de;q=0.8')).toBe('fr');
    expect(pick('de;q=0.8, fr;q=0.8')).toBe('de');
    expect(pick('es, it')).toBe('es');
    expect(pick('it, es;q=1.000')).toBe('it');
  });

  it('skips ranges nothing matches and takes the next', () => {
    expect(pick('xx, yy-ZZ;q=0.9, nl;q=0.1')).toBe('nl');
    expect(pick('cy-GB,cy;q=0.9,pl;q=0.5')).toBe('pl');
  });

  it('gives the fallback when nothing matches', () => {
    expect(pick('xx, cy')).toBe('en');
    expect(pick('xx', BUILT_IN, 'de')).toBe('de');
    expect(negotiateLanguage('xx', ['de'], undefined)).toBeUndefined();
  });

  it('q=0 excludes a language and its longer tags', () => {
    expect(pick('de;q=0, de-CH')).toBe('en');
    expect(pick('pt-BR;q=0, pt')).toBe('en');
    expect(pick('pt;q=0, pt-BR')).toBe('en');
    // Excluding a narrower tag leaves the broader one acceptable.
    expect(pick('de-CH;q=0, de;q=0.5')).toBe('de');
  });

  it('* is any offered language not excluded: the fallback first, then the offered order', () => {
    expect(pick('*')).toBe('en');
    expect(pick('xx, *;q=0.5')).toBe('en');
    expect(pick('en;q=0, *')).toBe('de');
    expect(pick('en;q=0, de;q=0, *')).toBe('fr');
    expect(pick('ja;q=0.1, *;q=0.5')).toBe('en');
    expect(pick('*;q=0, fr')).toBe('fr');
  });

  it('Simplified Chinese for zh-CN, zh-SG, zh-MY, zh-Hans-* and bare zh (zh-Hans is the tag: script, not region)', () => {
    for (const header of ['zh-CN', 'zh-cn', 'zh_CN', 'zh-SG', 'zh-MY', 'zh-Hans', 'zh-hans', 'zh-Hans-CN', 'zh-Hans-HK', 'zh-CHS', 'zh']) {
      expect(pick(header), header).toBe('zh-Hans');
    }
  });

  it('never Simplified for Traditional readers (zh-TW, zh-HK, zh-MO, zh-Hant), unless their header also accepts zh', () => {
    for (const header of ['zh-TW', 'zh-HK', 'zh-MO', 'zh-Hant', 'zh-Hant-TW', 'zh-hant-hk', 'zh-CHT']) {
      expect(pick(header), header).toBe('en');
    }
    expect(pick('zh-TW,zh;q=0.9,en;q=0.8')).toBe('zh-Hans');
    expect(pick('zh-TW,en;q=0.8,zh;q=0.5')).toBe('en');
  });

  it('Traditional Chinese of the owner reaches every Traditional region, and Simplified stays Simplified', () => {
    const available = [...BUILT_IN, 'zh-TW'];
    expect(pick('zh-HK', available)).toBe('zh-TW');
    expect(pick('zh-Hant', available)).toBe('zh-TW');
    expect(pick('zh-MO', available)).toBe('zh-TW');
    expect(pick('zh-TW', available)).toBe('zh-TW');
    expect(pick('zh-CN', available)).toBe('zh-Hans');
    expect(pick('zh-SG', available)).toBe('zh-Hans');
  });

  it('one Portuguese for all: pt, pt-PT, pt-AO reach pt-BR when it is the only one', () => {
    for (const header of ['pt', 'pt-PT', 'pt-pt', 'pt-AO', 'pt-BR', 'pt_BR']) expect(pick(header), header).toBe('pt-BR');
  });

  it('with two variants, each goes to its own, and bare pt to the first offered', () => {
    expect(pick('pt-PT', ['en', 'pt-BR', 'pt-PT'])).toBe('pt-PT');
    expect(pick('pt-BR', ['en', 'pt-BR', 'pt-PT'])).toBe('pt-BR');
    expect(pick('pt', ['en', 'pt-PT', 'pt-BR'])).toBe('pt-PT');
    expect(pick('pt', ['en', 'pt-BR', 'pt-PT'])).toBe('pt-BR');
    expect(pick('pt-AO', ['en', 'pt-PT', 'pt-BR'])).toBe('pt-PT');
  });

  it('an exact or truncated match beats a longer tag of the same language', () => {
    const available = ['en', 'de-CH', 'de'];
    expect(pick('de-AT', available)).toBe('de');
    expect(pick('de', available)).toBe('de');
    expect(pick('de-CH', available)).toBe('de-CH');
    expect(pick('de-AT', ['en', 'de-CH'])).toBe('de-CH');
  });

  it('a more preferred language in another variant beats a less preferred exact match', () => {
    expect(pick('pt-PT, en;q=0.8')).toBe('pt-BR');
  });

  it('knows the codes old Java clients still send (iw, in, ji)', () => {
    expect(pick('iw-IL', ['en', 'he'])).toBe('he');
    expect(pick('in', ['en', 'id'])).toBe('id');
    expect(pick('ji', ['en', 'yi'])).toBe('yi');
  });

  it('returns the offered tag as spelled there', () => {
    expect(pick('ZH-hans-cn', ['en', 'zh-Hans'])).toBe('zh-Hans');
    expect(pick('PT', ['en', 'pt-BR'])).toBe('pt-BR');
  });

  it('is the same function prepared once', () => {
    const negotiate = createNegotiator(BUILT_IN, 'en');
    for (const header of ['de-CH', 'zh-TW,zh;q=0.5', 'xx', '', 'pt-PT', 'en;q=0, *']) expect(negotiate(header)).toBe(pick(header));
  });
});

describe('negotiateLanguage: hostile and malformed headers', () => {
  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { toString: () => 'de' }],
    ['empty', ''],
    ['commas', ',,,,'],
    ['semicolons', ';;;q=1'],
    ['a parameter without a range', ';q=1'],
    ['spaces', '   '],
    ['a q above 1', 'de;q=2'],
    ['a negative q', 'de;q=-1'],
    ['a q that is not a number', 'de;q=abc'],
    ['a q with four decimals', 'de;q=0.1234'],
    ['a q of 1.001', 'de;q=1.001'],
    ['an empty q', 'de;q='],
    ['two q parameters', 'de;q=0.5;q=1'],
    ['digits as a language', '123'],
    ['a subtag over 8 characters', 'de-abcdefghi'],
    ['a primary tag over 8 characters', 'deutschland'],
    ['a doubled hyphen', 'de--CH'],
    ['a trailing hyphen', 'de-'],
    ['a leading hyphen', '-de'],
    ['a space inside', 'd e'],
    ['non-ASCII', 'dé'],
    ['a look-alike (Cyrillic е)', 'dе'],
    ['a NUL', 'de\u0000'],
    ['CR LF', 'de\r\nX-Evil: 1'],
    ['a quoted range', '"de"'],
  ])('%s: the fallback, no throw', (_label, header) => {
    expect(pick(header)).toBe('en');
  });

  it('a malformed range does not spoil the good ones around it', () => {
    expect(pick('de;q=2, fr;q=0.5')).toBe('fr');
    expect(pick('d e, "x", nl;q=0.3')).toBe('nl');
    expect(pick(' de ; q=0.5 , fr ; q=0.4 ')).toBe('de');
    expect(pick('de;level=1;q=0.5, fr;q=0.4')).toBe('de');
  });

  it('reads a header sent twice (joined, or as an array)', () => {
    expect(pick(['xx', 'ja'])).toBe('ja');
    expect(pick(['xx', 42, 'ja'])).toBe('ja');
  });

  it(`reads at most ${MAX_ACCEPT_LANGUAGE_LENGTH} characters, cut at a comma`, () => {
    const padding = 'xx;q=0.9,'.repeat(Math.ceil(MAX_ACCEPT_LANGUAGE_LENGTH / 9));
    expect(pick(`${padding}de`)).toBe('en');
    // The first range survives any length; a range cut in half is not read as a shorter one.
    expect(pick(`de,${'x'.repeat(10_000)}`)).toBe('de');
    expect(pick('x'.repeat(100_000))).toBe('en');
    // 'fr-CA' straddles the bound: cut there it would read as 'fr'. It is dropped whole instead.
    const prefix = `${'xx,'.repeat(Math.floor((MAX_ACCEPT_LANGUAGE_LENGTH - 2) / 3))}a,`.padEnd(MAX_ACCEPT_LANGUAGE_LENGTH - 2, 'a');
    expect(`${prefix}fr-CA`.slice(0, MAX_ACCEPT_LANGUAGE_LENGTH).endsWith(',fr')).toBe(true);
    expect(pick(`${prefix}fr-CA`)).toBe('en');
    expect(parseAcceptLanguage(`${'de,'.repeat(1000)}fr`).length).toBeLessThanOrEqual(MAX_LANGUAGE_RANGES);
  });

  it(`reads at most ${MAX_LANGUAGE_RANGES} ranges, the first ones`, () => {
    const ranges = (n: number) => Array.from({ length: n }, (_, i) => `x${String.fromCharCode(97 + (i % 26))};q=0.5`);
    expect(pick([...ranges(MAX_LANGUAGE_RANGES - 1), 'de'].join(','))).toBe('de');
    expect(pick([...ranges(MAX_LANGUAGE_RANGES), 'de'].join(','))).toBe('en');
  });

  it('a header of the worst shape still gives an answer (linear parsing, no backtracking)', () => {
    const worst = `${'a-'.repeat(MAX_ACCEPT_LANGUAGE_LENGTH)}!`;
    expect(pick(worst)).toBe('en');
    const manyParameters = `de${';q=0.5'.repeat(1000)}`;
    expect(pick(manyParameters)).toBe('en');
  });

  it('never throws, and answers an offered language or the fallback, for any string', () => {
    const available = ['en', 'de', 'zh-Hans', 'pt-BR', 'ar'];
    const piece = fc.constantFrom('de', 'DE-ch', 'zh', 'zh-TW', 'pt', '*', 'q', '=', ';', ',', ' ', '-', '_', '0.5', '1', 'x', '\u0000', 'é', 'ar-EG');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''))), (header) => {
        const result = negotiateLanguage(header, available, 'fallback');
        expect(['fallback', ...available]).toContain(result);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('comparableTag', () => {
  it('lower-cases, makes the Chinese script explicit, and replaces deprecated codes', () => {
    expect(comparableTag('zh-TW')).toBe('zh-hant-tw');
    expect(comparableTag('zh-CN')).toBe('zh-hans-cn');
    expect(comparableTag('zh-Hant')).toBe('zh-hant');
    expect(comparableTag('zh')).toBe('zh');
    expect(comparableTag('en_GB')).toBe('en-gb');
    expect(comparableTag('iw-IL')).toBe('he-il');
    expect(comparableTag('zh-CHT')).toBe('zh-hant');
    // Names on Object.prototype are no aliases.
    for (const name of ['constructor', 'tostring', 'valueof', 'hasownproperty', '__proto__']) expect(comparableTag(name)).toBe(name.replace(/_/g, '-'));
  });
});
