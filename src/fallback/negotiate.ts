/**
 * Language negotiation from `Accept-Language` (RFC 9110 §12.5.4), by RFC 4647 lookup with two additions
 * that suit a page offered in a dozen languages:
 *
 * - a range also matches a longer offered tag of the same language (`pt` and `pt-PT` → `pt-BR` when that
 *   is the only Portuguese, `de-CH` → `de-CH-1996`), because a visitor who reads Portuguese is better
 *   served by the Portuguese page than by the default one;
 * - Chinese is matched by script, not region: `zh-CN`, `zh-SG`, `zh-MY` and `zh-Hans-*` read Simplified
 *   Chinese (`zh-Hans`); `zh-TW`, `zh-HK`, `zh-MO` and `zh-Hant-*` read Traditional and are never given
 *   Simplified by the rule above (a later `zh` or `en` range in their header still applies).
 *
 * Ranges are tried by descending q, ties in header order; `q=0` excludes what it names; `*` stands for
 * any offered language not excluded. The header is hostile input: it is cut to a bounded length and a
 * bounded number of ranges, malformed ranges are skipped, and nothing here throws.
 */

/** Characters of a header that are read; a longer header is cut at the last comma before this. */
export const MAX_ACCEPT_LANGUAGE_LENGTH = 1024;
/** Ranges of a header that are read (browsers send a handful; the first are the preferred ones). */
export const MAX_LANGUAGE_RANGES = 32;

// RFC 4647 language-range, plus the "en_US" spelling old Java and .NET clients send. Linear: each
// subtag is bounded and the separator is mandatory, so there is nothing to backtrack over.
const RANGE = /^(?:\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)$/;
// RFC 9110 qvalue: 0 to 1 with at most three decimals.
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

const TRADITIONAL_REGIONS = new Set(['tw', 'hk', 'mo']);
// Deprecated codes still sent by old clients (Java's Locale keeps iw/in/ji), and .NET's zh-CHS/zh-CHT.
// A Map: a header must never reach Object.prototype through a lookup.
const ALIASES = new Map([['iw', 'he'], ['in', 'id'], ['ji', 'yi'], ['zh-chs', 'zh-hans'], ['zh-cht', 'zh-hant']]);

/**
 * The comparable form of a tag: lower case, `-` separators, deprecated codes replaced, and the script
 * a Chinese region implies made explicit (`zh-TW` → `zh-hant-tw`).
 */
export function comparableTag(tag: string): string {
  let key = tag.toLowerCase().replace(/_/g, '-');
  const primaryEnd = key.indexOf('-');
  const primary = primaryEnd < 0 ? key : key.slice(0, primaryEnd);
  const whole = ALIASES.get(key);
  const alias = ALIASES.get(primary);
  if (whole !== undefined) key = whole;
  else if (alias !== undefined) key = alias + key.slice(primary.length);
  if (key.startsWith('zh-')) {
    const second = key.split('-', 2)[1] ?? '';
    if (second.length === 2) key = `zh-${TRADITIONAL_REGIONS.has(second) ? 'hant' : 'hans'}-${key.slice(3)}`;
  }
  return key;
}

/** The script subtag of a comparable tag (`zh-hant-tw` → `hant`), if it has one. */
function scriptOf(key: string): string | undefined {
  const second = key.split('-', 2)[1];
  return second !== undefined && second.length === 4 && /^[a-z]{4}$/.test(second) ? second : undefined;
}

interface LanguageRange {
  /** Comparable form, or `*`. */
  key: string;
  q: number;
}

/** The ranges of a header, in header order, with their q; malformed ones left out. */
export function parseAcceptLanguage(header: unknown): LanguageRange[] {
  const whole: unknown = Array.isArray(header) ? header.filter((h): h is string => typeof h === 'string').join(',') : header;
  if (typeof whole !== 'string' || whole === '') return [];
  // Cut at a comma, so the last range read is whole.
  const text = whole.length > MAX_ACCEPT_LANGUAGE_LENGTH ? whole.slice(0, Math.max(0, whole.lastIndexOf(',', MAX_ACCEPT_LANGUAGE_LENGTH))) : whole;
  const ranges: LanguageRange[] = [];
  for (const item of text.split(',', MAX_LANGUAGE_RANGES)) {
    const [rangeText = '', ...parameters] = item.split(';');
    const range = rangeText.trim();
    if (!RANGE.test(range)) continue;
    let q: number | undefined = 1;
    let seenQ = false;
    for (const parameter of parameters) {
      const [name = '', value = ''] = parameter.split('=', 2).map((part) => part.trim());
      if (name.toLowerCase() !== 'q') continue;
      q = !seenQ && QVALUE.test(value) ? Number(value) : undefined;
      seenQ = true;
    }
    if (q === undefined) continue;
    ranges.push({ key: range === '*' ? '*' : comparableTag(range), q });
  }
  return ranges;
}

/** A negotiator for one set of offered languages, prepared once: per header, a few string compares. */
export function createNegotiator<T extends string, F>(available: readonly T[], fallback: F): (acceptLanguage: unknown) => T | F {
  const offered = available.map((tag) => {
    const key = comparableTag(tag);
    return { tag, key, script: scriptOf(key) };
  });
  const fallbackIndex = offered.findIndex((o) => (o.tag as unknown) === fallback);
  // For `*`: the fallback first, then the others in the owner's order.
  const wildcardOrder = fallbackIndex < 0 ? offered : [offered[fallbackIndex]!, ...offered.filter((_, i) => i !== fallbackIndex)];

  return (acceptLanguage) => {
    const ranges = parseAcceptLanguage(acceptLanguage);
    if (ranges.length === 0) return fallback;
    const excluded = ranges.filter((r) => r.q === 0 && r.key !== '*').map((r) => r.key);
    const allowed = (key: string) => !excluded.some((x) => key === x || key.startsWith(`${x}-`));
    // Stable: equal q keep header order.
    const wanted = ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q);
    for (const range of wanted) {
      if (range.key === '*') {
        const any = wildcardOrder.find((o) => allowed(o.key));
        if (any) return any.tag;
        continue;
      }
      const truncations = lookupTruncations(range.key);
      for (const key of truncations) {
        const exact = offered.find((o) => o.key === key);
        if (exact && allowed(exact.key)) return exact.tag;
      }
      const script = scriptOf(range.key);
      for (const key of truncations) {
        const longer = offered.find((o) => o.key.startsWith(`${key}-`) && (script === undefined || o.script === undefined || o.script === script) && allowed(o.key));
        if (longer) return longer.tag;
      }
    }
    return fallback;
  };
}

/**
 * The offered language that best matches `acceptLanguage`, or `fallback` when none does (or the header
 * is missing or malformed). `available` tags are returned as spelled there.
 */
export function negotiateLanguage<T extends string, F>(acceptLanguage: unknown, available: readonly T[], fallback: F): T | F {
  return createNegotiator(available, fallback)(acceptLanguage);
}

// RFC 4647 §3.4: drop subtags from the end, and a singleton left at the end with the one after it.
function lookupTruncations(key: string): string[] {
  const keys = [key];
  let current = key;
  for (let cut = current.lastIndexOf('-'); cut > 0; cut = current.lastIndexOf('-')) {
    current = current.slice(0, cut);
    if (current.length > 2 && current[current.length - 2] === '-') current = current.slice(0, -2);
    keys.push(current);
  }
  return keys;
}
