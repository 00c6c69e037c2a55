/**
 * Timestamps as logs write them, to milliseconds since the epoch; `NaN` when the text is not one.
 * Parsers are pure; `cachedTimeParser` wraps one with a one-entry cache, because consecutive lines of
 * a busy log share their second and the text compares faster than it parses.
 */

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((name, index) => [name, index]),
);

export type TimeParser = (text: string) => number;

export function cachedTimeParser(parse: TimeParser): TimeParser {
  let lastText = '';
  let lastValue = Number.NaN;
  return (text) => {
    if (text === lastText) return lastValue;
    lastValue = parse(text);
    lastText = text;
    return lastValue;
  };
}

/**
 * Common Log Format time, `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t` without its
 * brackets, HAProxy `%T`/`%Tl`). Fractional seconds are allowed (HAProxy `%tr`: `06/Feb/2009:12:14:14.655`);
 * without a UTC offset the time is the local time of this machine, which is what HAProxy writes.
 */
export function parseClfTime(text: string): number {
  if (text.length < 20 || text.charCodeAt(2) !== 47 || text.charCodeAt(6) !== 47 || text.charCodeAt(11) !== 58) return Number.NaN;
  const day = twoDigits(text, 0);
  const month = monthOf(text, 3);
  const year = twoDigits(text, 7) * 100 + twoDigits(text, 9);
  const hour = twoDigits(text, 12);
  const minute = twoDigits(text, 15);
  const second = twoDigits(text, 18);
  if (month === -1 || text.charCodeAt(14) !== 58 || text.charCodeAt(17) !== 58) return Number.NaN;
  let position = 20;
  let millis = 0;
  if (text.charCodeAt(position) === 46) {
    const start = ++position;
    while (position < text.length && isDigit(text.charCodeAt(position))) position++;
    if (position === start) return Number.NaN;
    millis = Math.floor(Number(`0.${text.slice(start, position)}`) * 1000);
  }
  if (!validDate(year, month, day, hour, minute, second)) return Number.NaN;
  if (position === text.length) return new Date(year, month, day, hour, minute, second, millis).getTime();
  if (text.length !== position + 6 || text.charCodeAt(position) !== 32) return Number.NaN;
  const sign = text.charCodeAt(position + 1);
  if (sign !== 43 && sign !== 45) return Number.NaN;
  const offsetMinutes = twoDigits(text, position + 2) * 60 + twoDigits(text, position + 4);
  if (Number.isNaN(offsetMinutes)) return Number.NaN;
  const utc = utcMillis(year, month, day, hour, minute, second) + millis;
  return utc - (sign === 45 ? -offsetMinutes : offsetMinutes) * 60_000;
}

/**
 * parseClfTime with the day remembered: lines of a log share their date and UTC offset for hours, so
 * only the time of day is read when they match the last line's (no Date, no lookups).
 */
export class ClfClock {
  #day = '';
  #zone = '';
  #base = Number.NaN;

  read(text: string): number {
    // `10/Oct/2000:` is 12 characters, `HH:MM:SS` 8, then ` +0000` (or a fraction, handled by parseClfTime).
    if (text.length === 26 && text.charCodeAt(20) === 32) {
      const day = text.slice(0, 12);
      const zone = text.slice(20);
      if (day === this.#day && zone === this.#zone) {
        const hour = twoDigits(text, 12);
        const minute = twoDigits(text, 15);
        const second = twoDigits(text, 18);
        if (hour <= 23 && minute <= 59 && second <= 60 && text.charCodeAt(14) === 58 && text.charCodeAt(17) === 58) {
          return this.#base + ((hour * 60 + minute) * 60 + second) * 1000;
        }
        return Number.NaN;
      }
      const midnight = parseClfTime(`${day}00:00:00${zone}`);
      const value = parseClfTime(text);
      if (!Number.isNaN(midnight) && !Number.isNaN(value)) {
        this.#day = day;
        this.#zone = zone;
        this.#base = midnight;
      }
      return value;
    }
    return parseClfTime(text);
  }
}

/**
 * ISO 8601 / RFC 3339 (`2018-07-02T22:23:00.186641Z`, `2024-01-01T10:00:00+01:00`). Without an offset
 * the time is local, as `Date.parse` reads it. Only this shape is accepted: Date.parse alone would take
 * "1" or "March 7" as dates.
 */
export function parseIsoTime(text: string): number {
  if (text.length < 19 || text.length > 40) return Number.NaN;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const separator = text.charCodeAt(10);
  if (separator !== 84 && separator !== 32 && separator !== 116) return Number.NaN;
  if (!isDigit(text.charCodeAt(0)) || !isDigit(text.charCodeAt(11))) return Number.NaN;
  const normalised = separator === 84 ? text : `${text.slice(0, 10)}T${text.slice(11)}`;
  return Date.parse(normalised);
}

/** `2026/11/28 15:27:56`, the nginx error log's local time. */
export function parseNginxErrorTime(text: string): number {
  if (text.length !== 19 || text.charCodeAt(4) !== 47 || text.charCodeAt(7) !== 47 || text.charCodeAt(10) !== 32) return Number.NaN;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5) - 1;
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (!validDate(year, month, day, hour, minute, second)) return Number.NaN;
  return new Date(year, month, day, hour, minute, second).getTime();
}

/** W3C extended log `date` and `time` fields (`2014-05-23`, `01:13:11`), which IIS and CloudFront write in UTC. */
export function parseW3cTime(date: string, time: string): number {
  if (date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return Number.NaN;
  if (time.length < 8 || time.charCodeAt(2) !== 58 || time.charCodeAt(5) !== 58) return Number.NaN;
  const year = twoDigits(date, 0) * 100 + twoDigits(date, 2);
  const month = twoDigits(date, 5) - 1;
  const day = twoDigits(date, 8);
  const hour = twoDigits(time, 0);
  const minute = twoDigits(time, 3);
  const second = twoDigits(time, 6);
  if (!validDate(year, month, day, hour, minute, second)) return Number.NaN;
  let millis = 0;
  if (time.length > 8) {
    if (time.charCodeAt(8) !== 46 || !/^\d+$/.test(time.slice(9))) return Number.NaN;
    millis = Math.floor(Number(`0.${time.slice(9)}`) * 1000);
  }
  return Date.UTC(year, month, day, hour, minute, second, millis);
}

/** Seconds since the epoch with an optional fraction: nginx `$msec`, Apache `%{sec}t`, Caddy `ts`. */
export function parseEpochSeconds(text: string): number {
  if (!/^\d{1,12}(\.\d{1,9})?$/.test(text)) return Number.NaN;
  return Math.floor(Number(text) * 1000);
}

/** An epoch number in unknown units (Cloudflare's `unixnano`, `unix`, or milliseconds), told apart by size. */
export function epochToMillis(value: number): number {
  if (!Number.isFinite(value) || value < 0) return Number.NaN;
  if (value >= 1e17) return Math.floor(value / 1e6); // nanoseconds
  if (value >= 1e14) return Math.floor(value / 1e3); // microseconds
  if (value >= 1e11) return Math.floor(value); // milliseconds
  return Math.floor(value * 1000); // seconds
}

/** `Jan`…`Dec` at `at`, as 0…11, or -1; by character codes, since this runs for every new second of a log. */
function monthOf(text: string, at: number): number {
  const key = (text.charCodeAt(at) << 16) | (text.charCodeAt(at + 1) << 8) | text.charCodeAt(at + 2);
  return MONTH_KEYS.get(key) ?? -1;
}

const MONTH_KEYS: ReadonlyMap<number, number> = new Map(
  [...MONTHS].map(([name, index]) => [(name.charCodeAt(0) << 16) | (name.charCodeAt(1) << 8) | name.charCodeAt(2), index]),
);

/** Date.UTC by arithmetic (days from the civil date, H. Hinnant's algorithm): no Date object per line. */
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const m = month < 2 ? month + 10 : month - 2;
  const dayOfYear = Math.floor((153 * m + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146097 + dayOfEra - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000;
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return Number.NaN;
  return a * 10 + b;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function validDate(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  // NaN fails every comparison, so one malformed digit anywhere rejects the whole time.
  return year >= 1970 && month >= 0 && month <= 11 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}
