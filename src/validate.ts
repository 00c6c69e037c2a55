import { InvalidOptionError } from './errors.js';

/** Small validation helpers shared by every options resolver. They throw `InvalidOptionError`. */

export function assertPlainObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(name, value, 'expected an object');
  }
}

/** Refuses unknown keys and points at the likely typo, which is the mistake people actually make. */
export function assertKnownKeys(options: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    throw InvalidOptionError.unknown(`${where}${key}`, suggestion ? `did you mean \`${suggestion}\`?` : `valid options are ${known.join(', ')}.`);
  }
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidOptionError(name, value, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
}

export function optionalString(value: unknown, name: string, maxLength = 2000): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidOptionError(name, value, 'expected a string');
  if (value.length > maxLength) throw new InvalidOptionError(name, value, `expected at most ${maxLength} characters`);
  return value;
}

export function optionalFunction<F>(value: unknown, name: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidOptionError(name, value, 'expected a function');
  return value as F;
}

export function stringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new InvalidOptionError(name, value, 'expected an array of strings');
  }
  return value as string[];
}

/** Control characters in anything that may end up in a header or a URL are an injection, not a typo. */
export function hasControlCharacters(value: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(value); // eslint-disable-line no-control-regex
}

/** The candidate a likely typo of `key` was meant to be, if any is close enough. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
