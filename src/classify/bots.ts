import { getPattern, list } from 'isbot';
import { LiteralScanner, requiredText } from './literals.js';

/** Whether a user agent is a bot. `lower` must be `userAgent.toLowerCase()`. */
export interface BotMatcher {
  (userAgent: string, lower: string): boolean;
}

/**
 * `pattern.test(userAgent)` for a case-insensitive `pattern` that is the alternation of `patterns`
 * (isbot's pattern and list), with the same answer for less work on long user agents.
 *
 * isbot tries its one expression of about 200 alternatives at every position of the user agent, so
 * its cost grows with the length, which is the sender's choice. Split, the alternatives anchored at
 * the start (`^…`) are tried at the start only, and the others only when the user agent contains a
 * literal that one of them cannot match without (`crawl`, `spider`, `http`…), which one pass of a
 * {@link LiteralScanner} tells. When the list and the pattern disagree, or an alternative has no
 * literal {@link requiredText} can find, the matcher simply runs `pattern`.
 */
export function createBotMatcher(patterns: readonly string[], pattern: RegExp): BotMatcher {
  const plain: BotMatcher = (userAgent) => userAgent !== '' && pattern.test(userAgent);
  // The split below is only the same expression if isbot's pattern is the plain alternation of its list.
  // (`source` escapes `/`, so compare with the same expression built from the list.)
  if (pattern.flags !== 'i' || pattern.source !== new RegExp(patterns.join('|'), 'i').source) return plain;
  // Numbered back-references would point at other groups once the alternatives are split up.
  if (patterns.some((entry) => /\\(?:[1-9]|k<)/.test(entry))) return plain;

  const anchored: string[] = [];
  const unanchored: string[] = [];
  const within: string[] = [];
  const suffixes: string[] = [];
  for (const entry of patterns) {
    if (entry.startsWith('^') && hasNoTopLevelAlternation(entry)) {
      anchored.push(entry.slice(1));
      continue;
    }
    const required = requiredText(entry);
    if (required === null) return plain;
    unanchored.push(entry);
    if ('within' in required) within.push(required.within);
    else suffixes.push(required.suffix);
  }
  const start = anchored.length === 0 ? null : new RegExp(`^(?:${anchored.join('|')})`, 'i');
  const elsewhere = unanchored.length === 0 ? null : new RegExp(unanchored.join('|'), 'i');
  const scanner = new LiteralScanner(within);
  return (userAgent, lower) => {
    if (userAgent === '') return false;
    if (start !== null && start.test(userAgent)) return true;
    if (elsewhere === null) return false;
    let candidate = scanner.find(lower);
    for (let i = 0; !candidate && i < suffixes.length; i++) candidate = lower.endsWith(suffixes[i] as string);
    return candidate && elsewhere.test(userAgent);
  };
}

/** Whether `^entry` can be written `^(?:…)` without changing it: no alternation outside a group. */
function hasNoTopLevelAlternation(entry: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < entry.length; i++) {
    const char = entry[i];
    if (char === '\\') i++;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') inClass = true;
    else if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === '|' && depth === 0) return false;
  }
  return depth === 0 && !inClass;
}

/** isbot's verdict: `isBot(userAgent, userAgent.toLowerCase()) === isbot(userAgent)`, built once. */
export const isBot: BotMatcher = createBotMatcher(list, getPattern());

// Product tokens that name the engine or platform a bot borrows, never the bot.
const BORROWED = new Set(['mozilla', 'applewebkit', 'khtml', 'gecko', 'chrome', 'chromium', 'safari', 'version', 'mobile', 'firefox', 'edge', 'edg', 'opera', 'trident', 'msie', 'like', 'compatible', 'linux', 'android', 'windows', 'macintosh']);
// Words that make a token the bot's own name, when several tokens are free.
const BOT_WORD = /bot|spider|crawl|slurp|fetch|scan|archiv|preview|hit|reader|monitor|check/i;
// `Name/1.2` anywhere, or a bare word with a bot word in it (`Slackbot-LinkExpanding 1.0`, `Yahoo! Slurp`);
// never a part of a URL or a host name (`+http://www.bing.com/bingbot.htm`).
const PRODUCT = /(?<![\w./:@+-])([A-Za-z][A-Za-z0-9_-]{0,39})\/[A-Za-z0-9]/g;
const BARE = /(?<![\w./:@+-])[A-Za-z][A-Za-z0-9_-]{0,39}(?![\w.:@])/g;
const MAX_BOT_NAME = 32;

/**
 * The name a bot gives itself in its user agent (`Googlebot`, `bingbot`, `facebookexternalhit`,
 * `Slackbot-LinkExpanding`): the first product token that is not a borrowed engine name, preferring one
 * with a bot word in it; else the first word with a bot word in it. At most 32 characters, or null.
 * The input is already cut to MAX_USER_AGENT_LENGTH; both scans are linear.
 */
export function botName(userAgent: string): string | null {
  let first: string | null = null;
  for (const match of userAgent.matchAll(PRODUCT)) {
    const name = match[1] as string;
    if (BORROWED.has(name.toLowerCase())) continue;
    if (BOT_WORD.test(name)) return name.slice(0, MAX_BOT_NAME);
    first ??= name;
  }
  if (first !== null) return first.slice(0, MAX_BOT_NAME);
  for (const match of userAgent.matchAll(BARE)) {
    const word = match[0];
    if (BOT_WORD.test(word) && !BORROWED.has(word.toLowerCase())) return word.slice(0, MAX_BOT_NAME);
  }
  return null;
}
