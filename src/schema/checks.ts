import { InvalidOptionError } from '../errors.js';
import { closest } from './typo.js';

export { hasControlCharacters } from './common.js';

/** Small checks for nested option objects that a schema does not describe key by key. They throw `InvalidOptionError`. */

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
