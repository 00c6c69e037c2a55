import { InvalidOptionError } from '../errors.js';
import { assertKnownKeys, assertPlainObject, hasControlCharacters, optionalString } from '../schema/checks.js';
import { closest } from '../schema/typo.js';
import { createNegotiator } from './negotiate.js';
import { longDate } from './texts/dates.js';
import { BUILT_IN_LANGUAGES } from './texts/index.js';
import { NON_EMPTY_KEYS, PLACEHOLDER_PATTERN, PLACEHOLDERS, TEXT_KEYS, type PageTexts, type Placeholder, type TextKey } from './texts/types.js';

/** Text shown in every language, or per language (`{ en: '…', de: '…' }`, one for the default language). */
export type Localised = string | Readonly<Record<string, string>>;

export interface FallbackPageContent {
  /** Organisation name, shown above the heading and after the title. */
  organisation?: Localised;
  /** Contact e-mail, rendered as a `mailto:` link. */
  email?: string;
  /** Contact phone number, rendered as a `tel:` link. */
  phone?: string;
  /** Postal address; line breaks are kept. */
  address?: Localised;
  /** Opening hours, free text; line breaks are kept. */
  hours?: Localised;
  /** A message of your own, shown under the explanation. */
  message?: Localised;
  /**
   * The default language: the page for visitors whose `Accept-Language` matches no offered language.
   * A more specific tag of an offered language (`en-GB`, `fr-CA`) selects it and becomes its `lang`.
   * @default the first of `languages`, or 'en'
   */
  lang?: string;
  /**
   * The languages offered, by tag. The order breaks ties (`pt` → the first Portuguese listed).
   * @default your own languages from `texts`, then every built-in one
   */
  languages?: readonly string[];
  /**
   * Your texts, by language tag: some keys of a built-in language (`{ de: { heading: '…' } }`), or every
   * key of a language of your own (`{ cy: { … } }`). Plain text; `{placeholders}` as in the built-in texts.
   */
  texts?: Readonly<Record<string, Partial<PageTexts>>>;
}

/** A language ready to render. */
export interface ResolvedLanguage {
  /** Its tag, as offered and negotiated (`de`, `pt-BR`, `cy`). */
  readonly tag: string;
  /** The `lang` attribute and `Content-Language`: `tag`, or the owner's more specific `lang`. */
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly texts: Readonly<PageTexts>;
  readonly formatDate: (date: Date) => string;
}

/** One owner value as shown on one language's page; `lang` is set when it is in another language. */
export interface ShownText {
  text: string;
  lang?: string;
}

export interface ResolvedPageContent {
  /** The offered languages, in order. */
  readonly languages: readonly ResolvedLanguage[];
  readonly defaultLanguage: ResolvedLanguage;
  readonly email: string | undefined;
  readonly phone: string | undefined;
  readonly organisation: (language: ResolvedLanguage) => ShownText | undefined;
  readonly address: (language: ResolvedLanguage) => ShownText | undefined;
  readonly hours: (language: ResolvedLanguage) => ShownText | undefined;
  readonly message: (language: ResolvedLanguage) => ShownText | undefined;
}

const PAGE_KEYS = ['organisation', 'email', 'phone', 'address', 'hours', 'message', 'lang', 'languages', 'texts'] as const;
const LOCALISED_KEYS = ['organisation', 'address', 'hours', 'message'] as const;
/** Longest owner text; the page is for old, slow clients. */
export const MAX_TEXT_LENGTH = 2000;
const MAX_LANGUAGES = 100;
const TAG_SHAPE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

// Scripts written right to left, and languages whose usual script is one of them.
const RTL_SCRIPTS = new Set(['arab', 'hebr', 'syrc', 'thaa', 'nkoo', 'adlm', 'rohg', 'mand', 'samr', 'mend', 'phnx', 'yezi']);
const RTL_LANGUAGES = new Set(['ar', 'arc', 'azb', 'ckb', 'dv', 'fa', 'glk', 'he', 'iw', 'ji', 'khw', 'ks', 'lrc', 'mzn', 'nqo', 'pnb', 'prs', 'ps', 'sd', 'sdh', 'syr', 'ug', 'ur', 'yi']);

/** `rtl` for tags written right to left: by script subtag when there is one (`az-Arab`, `ug-Cyrl`), else by language. */
export function directionOf(tag: string): 'ltr' | 'rtl' {
  const [language = '', second] = tag.toLowerCase().split('-');
  if (second !== undefined && /^[a-z]{4}$/.test(second)) return RTL_SCRIPTS.has(second) ? 'rtl' : 'ltr';
  return RTL_LANGUAGES.has(language) ? 'rtl' : 'ltr';
}

/** Whether the page can give any way to reach the owner (otherwise it says so, and the owner should be warned). */
export function hasContactDetails(content: Pick<FallbackPageContent, 'email' | 'phone' | 'address'>): boolean {
  return [content.email, content.phone, content.address].some((value) => value !== undefined && (typeof value !== 'string' || value.trim() !== ''));
}

const resolved = new WeakMap<object, ResolvedPageContent>();

/**
 * Validates the `page` option and returns a frozen copy of it. The resolved form is kept with the copy,
 * so the renderer given that copy does not validate it again.
 */
export function checkPageContent(value: unknown, name = 'page'): FallbackPageContent {
  const page = resolvePageContent(value, name);
  const copy = deepFreeze(structuredClone(value as FallbackPageContent));
  resolved.set(copy, page);
  return copy;
}

/** Validates the `page` option and resolves every language's texts. Throws `InvalidOptionError`. */
export function resolvePageContent(value: unknown = {}, name = 'page'): ResolvedPageContent {
  if (value !== null && typeof value === 'object') {
    const known = resolved.get(value);
    if (known) return known;
  }
  assertPlainObject(value, name);
  assertKnownKeys(value, PAGE_KEYS, `${name}.`);

  const own = resolveOwnTexts(value.texts, name);
  const available = [
    ...[...own.values()].filter((o) => o.builtIn === undefined).map((o) => o.tag),
    ...BUILT_IN_LANGUAGES.map((pack) => pack.tag),
  ];
  const offered = resolveOffered(value.languages, available, name);
  for (const tag of own.keys()) {
    if (!offered.includes(tag)) {
      throw new InvalidOptionError(`${name}.languages`, value.languages, `it leaves out '${tag}', for which ${name}.texts has texts; add '${tag}' to it or remove ${name}.texts['${tag}']`);
    }
  }
  const { tag: defaultTag, lang: defaultLang } = resolveDefault(value.lang, value.languages === undefined ? 'en' : offered[0]!, offered, name);

  const languages = offered.map((tag): ResolvedLanguage => {
    const pack = BUILT_IN_LANGUAGES.find((p) => p.tag === tag);
    const mine = own.get(tag);
    const lang = tag === defaultTag ? defaultLang : tag;
    const texts = { ...pack?.texts, ...mine?.texts } as PageTexts;
    return {
      tag,
      lang,
      dir: directionOf(lang),
      texts: Object.freeze(texts),
      formatDate: pack?.formatDate ? (date) => pack.formatDate!(date, lang) : (date) => longDate(date, lang),
    };
  });
  const defaultLanguage = languages.find((l) => l.tag === defaultTag)!;

  const fields = Object.fromEntries(
    LOCALISED_KEYS.map((key) => [key, resolveLocalised(value[key], `${name}.${key}`, languages, defaultLanguage)]),
  ) as Record<(typeof LOCALISED_KEYS)[number], (language: ResolvedLanguage) => ShownText | undefined>;

  const email = optionalString(value.email, `${name}.email`);
  if (email !== undefined && (!/^[^\s@<>"]+@[^\s@<>"]+$/.test(email) || hasControlCharacters(email))) {
    throw new InvalidOptionError(`${name}.email`, email, "expected an e-mail address such as 'help@example.com'");
  }
  const phone = optionalString(value.phone, `${name}.phone`);
  if (phone !== undefined && !/^\+?[0-9 ().\-/]{3,40}$/.test(phone)) {
    throw new InvalidOptionError(`${name}.phone`, phone, "expected a phone number such as '+44 20 7946 0000' (digits, spaces, + ( ) . - /)");
  }

  if (value.organisation === undefined) {
    for (const [tag, { texts }] of own) {
      const key = (Object.keys(texts) as TextKey[]).find((k) => placeholdersIn(texts[k] ?? '').includes('organisation'));
      if (key) throw new InvalidOptionError(`${name}.texts.${tag}.${key}`, texts[key], `it uses {organisation}, but ${name}.organisation is not set; set it, or take the placeholder out`);
    }
  }

  return { languages, defaultLanguage, email, phone, ...fields };
}

interface OwnTexts {
  tag: string;
  /** The built-in language these texts change, if any. */
  builtIn: string | undefined;
  texts: Partial<PageTexts>;
}

function resolveOwnTexts(value: unknown, name: string): Map<string, OwnTexts> {
  const own = new Map<string, OwnTexts>();
  if (value === undefined) return own;
  assertPlainObject(value, `${name}.texts`);
  const builtInTags = BUILT_IN_LANGUAGES.map((pack) => pack.tag);
  for (const [key, texts] of Object.entries(value)) {
    const where = `${name}.texts.${key}`;
    const tag = canonicalTag(key);
    if (tag === undefined) throw new InvalidOptionError(where, key, "the key must be a BCP 47 language tag such as 'de', 'cy' or 'pt-PT'");
    if (own.has(tag)) throw new InvalidOptionError(where, key, `it is the same language as '${own.get(tag)!.tag}', given twice; merge them`);
    assertPlainObject(texts, where);
    assertKnownKeys(texts, TEXT_KEYS, `${where}.`);
    const builtIn = builtInTags.find((t) => t === tag);
    const checked: Partial<PageTexts> = {};
    for (const [textKey, text] of Object.entries(texts) as [TextKey, unknown][]) {
      checked[textKey] = checkText(text, textKey, `${where}.${textKey}`);
    }
    if (builtIn === undefined) {
      const missing = TEXT_KEYS.filter((k) => checked[k] === undefined);
      if (missing.length > 0) {
        const near = createNegotiator(builtInTags, undefined)(tag);
        const hint = near === undefined ? '' : `; to change some of the built-in '${near}' texts instead, use ${name}.texts['${near}']`;
        throw new InvalidOptionError(where, texts, `'${tag}' has no built-in texts, so it needs every text; missing: ${missing.join(', ')}${hint}`);
      }
    }
    own.set(tag, { tag, builtIn, texts: checked });
  }
  return own;
}

function checkText(value: unknown, key: TextKey, where: string): string {
  if (typeof value !== 'string') throw new InvalidOptionError(where, value, 'expected a string of plain text');
  if (value.length > MAX_TEXT_LENGTH) throw new InvalidOptionError(where, value, `expected at most ${MAX_TEXT_LENGTH} characters`);
  if (hasControlCharacters(value.replace(/[\r\n\t]/g, ''))) throw new InvalidOptionError(where, value, 'expected text without control characters (line breaks are fine)');
  const text = value.replace(/\r\n?/g, '\n');
  if (NON_EMPTY_KEYS.includes(key) && text.trim() === '') throw new InvalidOptionError(where, value, 'it may not be empty (other texts may: an empty one is left out)');
  const rule = PLACEHOLDERS[key];
  for (const found of placeholdersIn(text)) {
    if ((rule.allowed as readonly string[]).includes(found)) continue;
    const suggestion = closest(found, rule.allowed);
    const list = rule.allowed.map((p) => `{${p}}`).join(', ');
    throw new InvalidOptionError(where, value, `{${found}} is not a placeholder of this text${suggestion ? `; did you mean {${suggestion}}?` : ''} (it may use ${list}; any other {word} is refused, other braces are text)`);
  }
  for (const required of rule.required) {
    if (!placeholdersIn(text).includes(required)) {
      throw new InvalidOptionError(where, value, `it must contain {${required}}, where ${placeholderMeaning(required)} goes`);
    }
  }
  return text;
}

function placeholderMeaning(placeholder: Placeholder): string {
  return placeholder === 'date' ? 'the switch-off date' : placeholder === 'hours' ? 'the opening hours' : `the ${placeholder}`;
}

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER_PATTERN)].map((m) => m[1] ?? '');
}

function resolveOffered(value: unknown, available: readonly string[], name: string): string[] {
  if (value === undefined) return [...available];
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LANGUAGES) {
    throw new InvalidOptionError(`${name}.languages`, value, `expected a non-empty array of language tags such as ['en', 'de', 'fr'] (available: ${available.join(', ')})`);
  }
  const offered: string[] = [];
  value.forEach((entry: unknown, i) => {
    const where = `${name}.languages[${i}]`;
    const tag = typeof entry === 'string' ? canonicalTag(entry) : undefined;
    const match = tag === undefined ? undefined : available.find((a) => a === tag);
    if (match === undefined) {
      const near = typeof entry === 'string' ? (createNegotiator(available, undefined)(entry) ?? closest(entry, available)) : undefined;
      throw new InvalidOptionError(where, entry, `there are no texts for it${near ? `; did you mean '${near}'?` : ''} Built in or yours: ${available.join(', ')}; add a language with ${name}.texts`);
    }
    if (offered.includes(match)) throw new InvalidOptionError(where, entry, `'${match}' is listed twice`);
    offered.push(match);
  });
  return offered;
}

function resolveDefault(value: unknown, otherwise: string, offered: readonly string[], name: string): { tag: string; lang: string } {
  const wanted = value ?? otherwise;
  const lang = typeof wanted === 'string' && TAG_SHAPE.test(wanted) ? canonicalTag(wanted) : undefined;
  if (lang === undefined) throw new InvalidOptionError(`${name}.lang`, value, "expected a BCP 47 language tag such as 'en' or 'fr-CA'");
  const tag = createNegotiator(offered, undefined)(lang);
  if (tag === undefined) {
    throw new InvalidOptionError(`${name}.lang`, value, `there are no texts for '${lang}': add them with ${name}.texts['${lang}'] (every text), or choose one of ${offered.join(', ')}`);
  }
  // `en-GB` names the built-in `en` more precisely: keep it as the attribute. `pt-PT` matched to `pt-BR`
  // by language only does not: that page is still Brazilian Portuguese.
  const narrower = lang.toLowerCase().startsWith(`${tag.toLowerCase()}-`);
  return { tag, lang: narrower ? lang : tag };
}

function resolveLocalised(value: unknown, where: string, languages: readonly ResolvedLanguage[], defaultLanguage: ResolvedLanguage): (language: ResolvedLanguage) => ShownText | undefined {
  if (value === undefined) return () => undefined;
  if (typeof value === 'string') {
    const text = ownerValue(value, where);
    // One string for every language: a name or an address, not in any language in particular.
    return text.trim() === '' ? () => undefined : () => ({ text });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(where, value, `expected a string, or an object of strings by language such as { ${defaultLanguage.tag}: '…', de: '…' }`);
  }
  const byTag = new Map<string, string>();
  const tags = languages.map((l) => l.tag);
  for (const [key, text] of Object.entries(value)) {
    const tag = canonicalTag(key);
    if (tag === undefined || !tags.includes(tag)) {
      const near = createNegotiator(tags, undefined)(key) ?? closest(key, tags);
      throw new InvalidOptionError(`${where}.${key}`, text, `'${key}' is not an offered language${near ? `; did you mean '${near}'?` : ''} (offered: ${tags.join(', ')})`);
    }
    byTag.set(tag, ownerValue(text, `${where}.${key}`));
  }
  const fallback = byTag.get(defaultLanguage.tag);
  if (fallback === undefined) {
    throw new InvalidOptionError(where, value, `give a text for the default language '${defaultLanguage.tag}' too: it is shown in the languages you leave out`);
  }
  return (language) => {
    const own = byTag.get(language.tag);
    if (own !== undefined) return own.trim() === '' ? undefined : { text: own };
    if (fallback.trim() === '') return undefined;
    return language.tag === defaultLanguage.tag ? { text: fallback } : { text: fallback, lang: defaultLanguage.lang };
  };
}

/** A free-text value of the owner: bounded, line breaks normalised, no other control character. */
function ownerValue(value: unknown, where: string): string {
  const text = optionalString(value, where, MAX_TEXT_LENGTH)!;
  if (hasControlCharacters(text.replace(/[\r\n\t]/g, ''))) throw new InvalidOptionError(where, value, 'expected text without control characters (line breaks are fine)');
  return text.replace(/\r\n?/g, '\n');
}

/** The canonical spelling of a language tag (`zh-hans` → `zh-Hans`, `iw` → `he`), or undefined if it is not one. */
function canonicalTag(tag: string): string | undefined {
  if (!TAG_SHAPE.test(tag)) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/**
 * The switch-off date option (`'2027-03-01'`): a real calendar day, as midnight UTC. Throws
 * `InvalidOptionError` naming `option`.
 */
export function resolveSwitchOffDate(value: unknown, option = 'switchOff'): Date | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!match || !date || date.toISOString().slice(0, 10) !== value || Number(match[1]) < 2000) {
    throw new InvalidOptionError(option, value, "expected a date as 'YYYY-MM-DD', such as '2027-03-01' (the first day legacy clients are refused, from midnight UTC)");
  }
  return date;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
