import { afterEach, describe, expect, it } from 'vitest';
import { createPageRenderer } from '../src/fallback/page.js';
import { placeholdersIn } from '../src/fallback/page-options.js';
import { BUILT_IN_LANGUAGES } from '../src/fallback/texts/index.js';
import { NON_EMPTY_KEYS, PLACEHOLDERS, TEXT_KEYS, type TextKey } from '../src/fallback/texts/types.js';

const PACKS = BUILT_IN_LANGUAGES.map((pack) => [pack.tag, pack] as const);
const MARCH_1 = new Date(Date.UTC(2027, 2, 1));
const MARCH_8 = new Date(Date.UTC(2027, 2, 8));

// Short texts: headings and the link, which read as labels, not sentences.
const LABELS: readonly TextKey[] = ['title', 'heading', 'contactHeading', 'wholeSiteHeading', 'interstitialHeading', 'interstitialContinue'];
const CONTACT_LINES: readonly TextKey[] = ['contactEmail', 'contactPhone', 'contactAddress', 'contactHours'];

describe('built-in texts', () => {
  it('are the twelve languages asked for, each tag canonical BCP 47 and unique', () => {
    const tags = BUILT_IN_LANGUAGES.map((pack) => pack.tag);
    expect(tags).toEqual(['en', 'de', 'fr', 'es', 'it', 'pt-BR', 'nl', 'pl', 'ru', 'zh-Hans', 'ja', 'tr']);
    for (const tag of tags) expect(Intl.getCanonicalLocales(tag)).toEqual([tag]);
  });

  it.each(PACKS)('%s has every key and no other, each a non-empty, trimmed string', (_tag, pack) => {
    expect(Object.keys(pack.texts).sort()).toEqual([...TEXT_KEYS].sort());
    for (const key of TEXT_KEYS) {
      const text = pack.texts[key];
      expect(typeof text, key).toBe('string');
      expect(text.trim(), key).not.toBe('');
      expect(text, key).toBe(text.trim());
      expect(text, key).not.toMatch(/ {2}|[\u0000-\u0009\u000b-\u001f<>]/); // eslint-disable-line no-control-regex
    }
  });

  it.each(PACKS)('%s has every placeholder each text needs, and no other', (_tag, pack) => {
    for (const key of TEXT_KEYS) {
      const found = placeholdersIn(pack.texts[key]);
      for (const required of PLACEHOLDERS[key].required) expect(found, `${key} needs {${required}}`).toContain(required);
      for (const name of found) expect(PLACEHOLDERS[key].allowed, `${key} may not use {${name}}`).toContain(name);
      // Each value appears once: twice would print two links.
      expect(new Set(found).size, key).toBe(found.length);
    }
  });

  it.each(PACKS)('%s never puts {organisation} in a sentence (a name cannot be declined)', (_tag, pack) => {
    for (const key of TEXT_KEYS) expect(placeholdersIn(pack.texts[key]), key).not.toContain('organisation');
  });

  it.each(PACKS)('%s: labels have no full stop, sentences end with one', (_tag, pack) => {
    for (const key of TEXT_KEYS) {
      const text = pack.texts[key];
      if (LABELS.includes(key)) expect(text, key).not.toMatch(/[.。:：]$/);
      else if (CONTACT_LINES.includes(key)) expect(text, key).toMatch(/[:：][ \n]?\{\w+\}$/);
      else expect(text, key).toMatch(/[.。?!]$/);
    }
  });

  it.each(PACKS)('%s names TLS 1.2 and the four browsers where the English does', (_tag, pack) => {
    const english = BUILT_IN_LANGUAGES[0]!.texts;
    for (const key of TEXT_KEYS) {
      for (const term of ['TLS 1.2', 'Chrome', 'Edge', 'Firefox', 'Safari']) {
        if (english[key].includes(term)) expect(pack.texts[key], `${key}: ${term}`).toContain(term);
      }
    }
  });

  it('the texts that may not be empty are the title, the headings and the link', () => {
    expect([...NON_EMPTY_KEYS].sort()).toEqual(['heading', 'interstitialContinue', 'interstitialHeading', 'title']);
  });
});

/** A word on its own, in any script (JavaScript's \b knows only ASCII). */
const word = (text: string, words: string) => new RegExp(`(?<![\\p{L}])(?:${words})(?![\\p{L}])`, 'iu').test(text);

describe('one register per language, kept throughout', () => {
  // The formal address chosen for each language, and the familiar forms that must not slip in.
  it.each<[string, string]>([
    ['de', 'du|dich|dir|dein|deine|deinen|deinem|deiner'],
    ['fr', 'tu|toi|ton|ta|tes|te'],
    ['es', 'tú|tu|tus|te|ti|vosotros|vuestro|vuestra'],
    ['it', 'tu|tuo|tua|tuoi|tue|ti'],
    ['nl', 'je|jij|jou|jouw|jullie'],
    ['pl', 'ty|twój|twoja|twoje|twojego|twoim|ci|cię|tobie'],
    ['ru', 'ты|тебя|тебе|твой|твоя|твоё|твои|твоего|твоим'],
    ['tr', 'sen|seni|sana|senin|sende'],
  ])('%s uses only the formal address', (tag, familiar) => {
    const pack = BUILT_IN_LANGUAGES.find((p) => p.tag === tag)!;
    for (const key of TEXT_KEYS) expect(word(pack.texts[key], familiar), `${tag}.${key}: ${pack.texts[key]}`).toBe(false);
  });

  it('the register check can fail', () => {
    expect(word('Aktualisiere deinen Browser', 'du|deinen')).toBe(true);
    expect(word('Обнови свой браузер, ты', 'ты')).toBe(true);
    expect(word('Ihr Gerät, Sie', 'du|dir')).toBe(false);
  });

  it('German, Dutch, Polish and Spanish address the visitor formally somewhere (Sie, u, Państwo, su)', () => {
    const texts = (tag: string) => Object.values(BUILT_IN_LANGUAGES.find((p) => p.tag === tag)!.texts).join('\n');
    expect(word(texts('de'), 'Sie|Ihr|Ihre|Ihren|Ihnen')).toBe(true);
    expect(word(texts('nl'), 'u|uw')).toBe(true);
    expect(word(texts('pl'), 'Państwo|Państwa|Państwu')).toBe(true);
    expect(word(texts('es'), 'su|usted')).toBe(true);
  });

  it('Chinese uses 您, never 你', () => {
    const zh = Object.values(BUILT_IN_LANGUAGES.find((p) => p.tag === 'zh-Hans')!.texts).join('');
    expect(zh).toContain('您');
    expect(zh).not.toContain('你');
  });

  it('Japanese sentences are polite (です/ます forms), never plain だ/である', () => {
    const ja = BUILT_IN_LANGUAGES.find((p) => p.tag === 'ja')!.texts;
    for (const key of TEXT_KEYS) {
      if (LABELS.includes(key) || CONTACT_LINES.includes(key)) continue;
      for (const sentence of ja[key].split('。').filter((s) => s !== '')) {
        expect(sentence, key).toMatch(/(ます|ません|ください|おります|ありません|です)$/);
      }
      expect(ja[key], key).not.toMatch(/(だ|である)。/);
    }
  });

  it('French puts a no-break space before its colons', () => {
    const fr = BUILT_IN_LANGUAGES.find((p) => p.tag === 'fr')!.texts;
    for (const key of TEXT_KEYS) expect(fr[key], key).not.toMatch(/[^\u00a0]:/);
  });
});

describe('the switch-off date, as each language writes it', () => {
  const date = (tag: string, when = MARCH_1, lang?: string) => {
    const renderer = createPageRenderer({ lang: lang ?? tag }, { switchOff: when.toISOString().slice(0, 10) });
    return renderer.page(tag, 'before');
  };

  it.each<[string, string]>([
    ['en', 'From 1 March 2027, this site'],
    ['de', 'Ab dem 1. März 2027 lässt'],
    ['fr', 'À partir du 1er mars 2027, ce site'],
    ['es', 'A partir del 1 de marzo de 2027, este'],
    ['it', 'A partire dal giorno 1 marzo 2027, questo'],
    ['pt-BR', 'A partir de 1º de março de 2027, este'],
    ['nl', 'Vanaf 1 maart 2027 accepteert'],
    ['pl', 'Od 1 marca 2027 r. ta strona'],
    ['ru', 'С 1 марта 2027 г. этот сайт'],
    ['zh-Hans', '自2027年3月1日起，本网站'],
    ['ja', '2027年3月1日以降、当サイト'],
    ['tr', '1 Mart 2027 tarihinden itibaren'],
  ])('%s: %s…', (tag, sentence) => {
    expect(date(tag)).toContain(sentence);
  });

  it('writes the first of a month as an ordinal only where the language does', () => {
    expect(date('fr', MARCH_8)).toContain('À partir du 8 mars 2027,');
    expect(date('pt-BR', MARCH_8)).toContain('A partir de 8 de março de 2027,');
  });

  it('ends a Russian sentence on the date with one full stop', () => {
    const html = createPageRenderer({ lang: 'ru' }, { switchOff: '2027-03-01' }).page('ru', 'after');
    expect(html).toContain('Это требование действует с 1 марта 2027 г.</p>');
    expect(html).not.toContain('г..');
  });

  it('follows a more precise default tag (en-US writes the month first)', () => {
    expect(date('en', MARCH_1, 'en-US')).toContain('From March 1, 2027, this site');
  });

  it('formats a language of the owner with Intl', () => {
    const own = Object.fromEntries(TEXT_KEYS.map((key) => [key, BUILT_IN_LANGUAGES[0]!.texts[key]]));
    const html = createPageRenderer({ texts: { cy: own } }, { switchOff: '2027-03-01' }).page('cy', 'before');
    expect(html).toContain(`From ${new Intl.DateTimeFormat('cy', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(MARCH_1)}, this site`);
  });

  describe('in a time zone west of Greenwich', () => {
    const original = process.env.TZ;
    afterEach(() => {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    });

    it('is still the first of March (the date is a day, in UTC)', () => {
      process.env.TZ = 'America/Los_Angeles';
      expect(new Date(Date.UTC(2027, 2, 1)).getDate()).toBe(28);
      expect(date('en')).toContain('From 1 March 2027,');
      expect(date('ja')).toContain('2027年3月1日');
    });
  });

  it('shows the future sentence before the date and the past one from it on, in every language', () => {
    const renderer = createPageRenderer({}, { switchOff: '2027-03-01' });
    for (const pack of BUILT_IN_LANGUAGES) {
      const [before] = pack.texts.switchOffBefore.split('{date}');
      const [since] = pack.texts.switchOffSince.split('{date}');
      expect(renderer.page(pack.tag, 'before'), pack.tag).toContain(before);
      expect(renderer.page(pack.tag, 'after'), pack.tag).toContain(since);
      expect(renderer.page(pack.tag, 'after'), pack.tag).not.toContain(pack.texts.switchOffBefore.split('{date}')[1]!);
    }
  });
});
