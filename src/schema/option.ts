import { InvalidOptionError } from '../errors.js';
import { closest } from './typo.js';

/**
 * One option, described once: its type and default for the docs tables, its help text, its validation,
 * and (when it is also a command-line flag) how the CLI reads it. Library resolvers, the CLI flags, the
 * config-file keys, `--help` and the docs tables are all derived from these descriptions.
 */
export interface Option<T> {
  /** The type as the docs show it: `'redirect' | 'render'`, `number`, `string[]`. */
  readonly type: string;
  /** The value used when the option is not given; `undefined` when it has none. */
  readonly default: T | undefined;
  /** How the docs and `--help` show the default when it is not a plain value ("generated", "none"). */
  readonly defaultText: string | undefined;
  readonly help: string;
  /** Never shown in an error message (tokens). */
  readonly secret: boolean;
  /** It has no default and must be given: resolving without it fails with `validate`'s own message. */
  readonly required: boolean;
  /** Checks a given value (never `undefined`) and returns it as the feature uses it; throws `InvalidOptionError`. */
  readonly validate: (value: unknown, name: string) => T;
  /** Present when the option is also a command-line flag and config-file key. */
  readonly cli: CliFlag | undefined;
  /**
   * For an object option (`page`): its fields, described for the docs and as flags of their own
   * (`page.email` is `--email`); `validate` still checks the object as a whole.
   */
  readonly fields: Fields | undefined;
}

/** The options of an object option, by name. */
export type Fields = Readonly<Record<string, Option<unknown>>>;

export type CliGroup =
  | 'Upstream'
  | 'Listening'
  | 'TLS'
  | 'Fallback page'
  | 'Stats and report'
  | 'Proxy trust'
  | 'Limits and timeouts'
  | 'Process'
  | 'Logging'
  | 'Log input'
  | 'Analysis output';

export interface CliFlag {
  /** Long flag name without dashes; also the config-file key. */
  readonly flag: string;
  /** Placeholder in `--help` (`MS`, `URL`); absent for a boolean switch. */
  readonly arg: string | undefined;
  readonly group: CliGroup;
  /** Several values: the flag may repeat, the config key may hold an array. */
  readonly multiple: boolean;
  /** A file or directory: relative paths in a config file are relative to the file. */
  readonly path: boolean;
  /** An environment variable read when neither the flag nor the config file gives the option. */
  readonly env: string | undefined;
  /**
   * From the text of a flag (or a config-file string) to what `validate` takes: a number for integers,
   * a list for comma-separated values. Errors it throws are `InvalidOptionError`s like any other.
   */
  readonly parse: (text: string, name: string) => unknown;
}

export interface Meta<T> {
  help: string;
  fields?: Fields;
  default?: T;
  defaultText?: string;
  secret?: boolean;
  required?: boolean;
  /** Make the option a flag: its group, and the flag name when it is not the option name in kebab case. */
  cli?: CliMeta;
}

export interface CliMeta {
  group: CliGroup;
  flag?: string;
  arg?: string;
  path?: boolean;
  env?: string;
  /** How the flag's text becomes a value, when the kind's own reading is not right. */
  parse?: (text: string, name: string) => unknown;
}

function build<T>(meta: Meta<T>, type: string, validate: (value: unknown, name: string) => T, cli: { arg?: string; multiple?: boolean; parse: (text: string, name: string) => unknown } | undefined): Option<T> {
  return Object.freeze({
    type,
    default: meta.default,
    defaultText: meta.defaultText,
    help: meta.help,
    secret: meta.secret === true,
    required: meta.required === true,
    validate,
    fields: meta.fields,
    cli: meta.cli && cli
      ? Object.freeze({
          flag: meta.cli.flag ?? '',
          arg: meta.cli.arg ?? cli.arg,
          group: meta.cli.group,
          multiple: cli.multiple === true,
          path: meta.cli.path === true,
          env: meta.cli.env,
          parse: meta.cli.parse ?? cli.parse,
        })
      : undefined,
  });
}

const asText = (text: string) => text;

/** A closed set of strings. */
export function oneOf<T extends string>(values: readonly T[], meta: Meta<T>): Option<T> {
  return build(
    meta,
    values.map((v) => `'${v}'`).join(' | '),
    (value, name) => {
      if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
      const suggestion = typeof value === 'string' ? closest(value, values) : undefined;
      throw new InvalidOptionError(name, value, `expected one of ${values.map((v) => `'${v}'`).join(', ')}${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`);
    },
    { arg: values.join('|'), parse: asText },
  );
}

export interface IntegerMeta extends Meta<number> {
  min: number;
  max: number;
  /** What the number counts, for the error message: `milliseconds`, `connections`. */
  unit: string;
  /** Said after the range: `, or 0 for no cap`. */
  also?: string;
}

/** A whole number within limits. On the command line: plain digits. */
export function integer(meta: IntegerMeta): Option<number> {
  const expected = `expected a whole number of ${meta.unit} from ${meta.min} to ${meta.max}${meta.also ?? ''}`;
  return build(
    meta,
    'number',
    (value, name) => {
      if (typeof value === 'number' && Number.isInteger(value) && value >= meta.min && value <= meta.max) return value;
      throw new InvalidOptionError(name, value, expected);
    },
    {
      arg: 'N',
      parse: (text, name) => {
        const trimmed = text.trim();
        if (/^\d{1,16}$/.test(trimmed)) return Number(trimmed);
        const hint = /^\d+(\.\d+)?\s*[a-z]+$/i.test(trimmed) ? ' (a plain number, without a unit)' : '';
        throw new InvalidOptionError(name, text, `${expected}${hint}`);
      },
    },
  );
}

export interface StringMeta extends Meta<string> {
  /** @default 2000 */
  maxLength?: number;
  /** Extra check; returns what is wrong (completing "expected …"), or undefined when the value is fine. */
  check?: (value: string) => string | undefined;
  /** Shown in the error: `such as 'help@example.com'`. */
  example?: string;
  type?: string;
}

export function string(meta: StringMeta): Option<string> {
  const maxLength = meta.maxLength ?? 2000;
  return build(
    meta,
    meta.type ?? 'string',
    (value, name) => {
      if (typeof value !== 'string') throw new InvalidOptionError(name, meta.secret ? '<hidden>' : value, `expected a string${meta.example ? ` such as ${meta.example}` : ''}`);
      if (value.length > maxLength) throw new InvalidOptionError(name, meta.secret ? '<hidden>' : value, `expected at most ${maxLength} characters`);
      const problem = meta.check?.(value);
      if (problem !== undefined) throw new InvalidOptionError(name, meta.secret ? '<hidden>' : value, problem);
      return value;
    },
    { arg: 'TEXT', parse: asText },
  );
}

export function boolean(meta: Meta<boolean>): Option<boolean> {
  return build(
    meta,
    'boolean',
    (value, name) => {
      if (typeof value === 'boolean') return value;
      throw new InvalidOptionError(name, value, 'expected true or false');
    },
    { parse: () => true },
  );
}

export interface ListMeta<T> extends Meta<T[]> {
  /** Checks one item (named `name[i]`) and returns it. */
  item: (value: unknown, name: string) => T;
  type: string;
  /** On the command line, a value may hold several items separated by commas. */
  commaSeparated?: boolean;
  /** Most items accepted. @default 1000 */
  maxItems?: number;
}

/** An array; on the command line a repeatable flag. */
export function list<T>(meta: ListMeta<T>): Option<T[]> {
  const maxItems = meta.maxItems ?? 1000;
  return build(
    meta,
    meta.type,
    (value, name) => {
      if (!Array.isArray(value)) throw new InvalidOptionError(name, value, `expected an array (${meta.type})`);
      if (value.length > maxItems) throw new InvalidOptionError(name, value, `expected at most ${maxItems} items`);
      return value.map((item, i) => meta.item(item, `${name}[${i}]`));
    },
    {
      multiple: true,
      parse: (text) => (meta.commaSeparated ? text.split(',').map((t) => t.trim()).filter((t) => t !== '') : [text]),
    },
  );
}

export interface CustomMeta<T> extends Meta<T> {
  type: string;
  validate: (value: unknown, name: string) => T;
  /** For a flag: its placeholder and how its text is read. */
  arg?: string;
  parse?: (text: string, name: string) => unknown;
}

/** Anything else: a function, an object, a union. */
export function custom<T>(meta: CustomMeta<T>): Option<T> {
  return build(meta, meta.type, meta.validate, { arg: meta.arg ?? 'VALUE', parse: meta.parse ?? asText });
}

/** A function option (hooks). */
export function fn<F>(meta: Meta<F> & { type: string }): Option<F> {
  return custom<F>({
    ...meta,
    validate: (value, name) => {
      if (typeof value === 'function') return value as F;
      throw new InvalidOptionError(name, value, 'expected a function');
    },
  });
}

/**
 * The same option where another context has another default (the command's `--max-connections` has
 * one, the library's `maxConnections` none): still one description, one validation.
 */
export function withDefault<T>(option: Option<T>, change: { default?: T; defaultText?: string }): Option<T> {
  return Object.freeze({ ...option, default: 'default' in change ? change.default : option.default, defaultText: change.defaultText ?? (('default' in change) ? undefined : option.defaultText) });
}
