import { InvalidOptionError } from '../errors.js';
import type { CliFlag, Fields, Option } from './option.js';
import { closest } from './typo.js';

/** What a schema resolves to: every key, with its default filled in (`undefined` when it has none). */
export type Resolved<S extends Fields> = {
  -readonly [K in keyof S]: S[K] extends Option<infer T> ? T : never;
};

/** A flag of the command line, found anywhere in a schema, with the option path it sets. */
export interface FlagEntry {
  /** Dotted option path: `mode`, `page.email`. */
  readonly path: string;
  readonly option: Option<unknown>;
  readonly cli: CliFlag;
}

/** One row of an option table in the docs. */
export interface DocRow {
  readonly name: string;
  readonly type: string;
  readonly default: string;
  readonly help: string;
}

export interface Schema<S extends Fields> {
  readonly specs: S;
  /**
   * Checks `input` (a plain object: unknown keys are refused with a "did you mean"), fills in defaults,
   * and returns every key.
   */
  resolve(input: unknown): Resolved<S>;
  /** The same, but keys the schema does not know are handed back in `rest` (options passed on to Node). */
  resolveWithRest(input: unknown): { options: Resolved<S>; rest: Record<string, unknown> };
  /** Every flag in the schema, object options' fields included. */
  flags(): FlagEntry[];
  /** Docs rows, object options' fields flattened as `page.email`. */
  rows(): DocRow[];
}

/** `fallbackUrl` → `fallback-url`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Describes a feature's options (helmet's pattern: validated once, at creation). The schema resolves
 * user input, and lists the flags and docs rows derived from the same descriptions.
 */
export function defineOptions<S extends Fields>(specs: S): Schema<S> {
  const named = withFlagNames(specs) as S;
  const keys = Object.keys(named);

  const resolveWithRest = (input: unknown, allowRest: boolean) => {
    const object = input === undefined ? {} : input;
    if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new InvalidOptionError('options', input, 'expected an object');
    const given = object as Record<string, unknown>;
    const rest: Record<string, unknown> = {};
    for (const key of Object.keys(given)) {
      if (keys.includes(key)) continue;
      if (allowRest) {
        rest[key] = given[key];
        continue;
      }
      const suggestion = closest(key, keys);
      throw InvalidOptionError.unknown(key, suggestion ? `did you mean \`${suggestion}\`?` : `valid options are ${keys.join(', ')}.`);
    }
    const options: Record<string, unknown> = {};
    for (const key of keys) {
      const spec = named[key] as Option<unknown>;
      const value = Object.hasOwn(given, key) ? given[key] : undefined;
      options[key] = value === undefined && !spec.required ? spec.default : spec.validate(value, key);
    }
    return { options: options as Resolved<S>, rest };
  };

  return Object.freeze({
    specs: named,
    resolve: (input: unknown) => resolveWithRest(input, false).options,
    resolveWithRest: (input: unknown) => resolveWithRest(input, true),
    flags: () => flagsOf(named, ''),
    rows: () => rowsOf(named, ''),
  });
}

function withFlagNames(specs: Fields): Fields {
  return Object.fromEntries(
    Object.entries(specs).map(([key, spec]) => {
      const fields = spec.fields && withFlagNames(spec.fields);
      const cli = spec.cli && spec.cli.flag === '' ? Object.freeze({ ...spec.cli, flag: kebab(key) }) : spec.cli;
      return [key, cli === spec.cli && fields === spec.fields ? spec : Object.freeze({ ...spec, cli, fields })];
    }),
  );
}

function flagsOf(specs: Fields, prefix: string): FlagEntry[] {
  return Object.entries(specs).flatMap(([key, spec]): FlagEntry[] => [
    ...(spec.cli ? [{ path: `${prefix}${key}`, option: spec, cli: spec.cli }] : []),
    ...(spec.fields ? flagsOf(spec.fields, `${prefix}${key}.`) : []),
  ]);
}

function rowsOf(specs: Fields, prefix: string): DocRow[] {
  return Object.entries(specs).flatMap(([key, spec]): DocRow[] => [
    { name: `${prefix}${key}`, type: spec.type, default: defaultText(spec), help: spec.help },
    ...(spec.fields ? rowsOf(spec.fields, `${prefix}${key}.`) : []),
  ]);
}

export function defaultText(option: Option<unknown>): string {
  if (option.defaultText !== undefined) return option.defaultText;
  const value = option.default;
  if (value === undefined) return 'none';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value).replace(/"/g, "'");
  return String(value);
}

/** The docs table of a schema (or of some of its rows), as Markdown. */
export function markdownTable(rows: readonly DocRow[], optionHeader = 'Option'): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${optionHeader} | Type | Default | Description |`,
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| \`${row.name}\` | \`${cell(row.type)}\` | ${cell(row.default)} | ${cell(row.help)} |`),
  ].join('\n');
}
