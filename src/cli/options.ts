import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidOptionError } from '../errors.js';
import { PROXY_OPTIONS, resolveProxyConfig, type ProxyConfig, type ProxyOptions } from '../proxy/config.js';
import { hasControlCharacters } from '../schema/common.js';
import { defineOptions, defaultText, type FlagEntry } from '../schema/define.js';
import { oneOf, string, type CliGroup } from '../schema/option.js';
import { closest } from '../schema/typo.js';
import { locateJsonError } from './json-error.js';

/**
 * Command-line parsing, pure: argv, environment and a file reader in; settings or a `UsageError` out.
 * Every flag comes from an option's description (the proxy's, and through it each feature's: see
 * `PROXY_OPTIONS`), and is also a key of the `--config` JSON file (same name, without the dashes);
 * flags win over the file, the file over the environment.
 */

export const PROGRAM = 'legacy-tls-fallback';

export type CliCommand = 'run' | 'demo' | 'help' | 'version';

export const STATE_DIR_ENV = 'LEGACY_TLS_FALLBACK_STATE_DIR';
/** Read when neither --report-token nor the config file gives a token (the report's own option says so). */
export const REPORT_TOKEN_ENV = PROXY_OPTIONS.specs.reportToken.cli?.env ?? 'LEGACY_TLS_REPORT_TOKEN';
export const MAX_FALLBACK_PAGE_BYTES = 256 * 1024;
/** The page fields through which a visitor can reach someone. */
export const CONTACT_FLAGS = ['email', 'phone', 'address'] as const;
/** What `demo` puts on its fallback page when no contact detail is given. */
export const DEMO_PAGE = { organisation: 'Example Ltd (demo)', email: 'help@example.com', phone: '+44 20 7946 0000' } as const;

/** The command's own options, beside the proxy's. */
export const CLI_OPTIONS = defineOptions({
  stateDir: string({
    default: '.legacy-tls-fallback',
    defaultText: `$${STATE_DIR_ENV}, else ./.legacy-tls-fallback`,
    help: 'Where the generated certificate, the report token and the stats live (created with mode 0700).',
    maxLength: 4096,
    check: (dir) => (dir.trim() === '' || hasControlCharacters(dir) ? 'expected a directory path' : undefined),
    cli: { group: 'Stats and report', arg: 'DIR', path: true, env: STATE_DIR_ENV },
  }),
  logFormat: oneOf<'json' | 'pretty'>(['json', 'pretty'], {
    defaultText: 'pretty on a terminal, else json',
    help: 'json: one JSON object per line; pretty: "HH:MM:SS level message key=value". Nothing is logged per request.',
    cli: { group: 'Logging', arg: 'json|pretty' },
  }),
});

/**
 * Everything the CLI resolved from flags, the config file and the environment. Paths may still be
 * relative to the working directory; `prepareState` resolves them and fills in the certificate and the
 * report token to make the final `ProxyConfig`.
 */
export interface CliSettings extends ProxyConfig {
  stateDir: string;
  logFormat: 'json' | 'pretty';
  /** Whether the demo's own contact details were put on the page (none was given). */
  demoPage: boolean;
}

export interface ParsedCli {
  command: CliCommand;
  /** For `demo` (and `help`, `version`), `upstream` is a placeholder: main starts the demo site. */
  config: CliSettings;
}

export interface ParseContext {
  /** Whether stdout is a terminal: picks the default `--log-format`. */
  isTTY?: boolean;
}

/** A mistake in the command line, the config file or the environment: exit code 2, never a stack trace. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE' as const;
  /** The flag, config key or environment variable at fault, as the user wrote it: `--listen`, `"listen" in ltf.json`. */
  readonly source: string | undefined;

  constructor(message: string, source?: string) {
    super(message);
    this.name = 'UsageError';
    this.source = source;
  }
}

// ---------------------------------------------------------------------------------------------------
// The flags: derived from the option descriptions, plus the three that are no option.

interface Flag {
  name: string;
  /** Option path it sets (`page.email`, `stateDir`); none for --config, --help, --version. */
  path: string | undefined;
  /** `proxy` options go to `resolveProxyConfig`, `cli` ones are the command's own. */
  owner: 'proxy' | 'cli' | 'none';
  entry: FlagEntry | undefined;
  group: CliGroup;
  arg: string | undefined;
  help: string;
  defaultText: string | undefined;
  boolean: boolean;
  multiple: boolean;
  short?: string;
}

const GROUPS: readonly CliGroup[] = ['Upstream', 'Listening', 'TLS', 'Fallback page', 'Stats and report', 'Proxy trust', 'Limits and timeouts', 'Process', 'Logging'];

const fromEntry = (owner: 'proxy' | 'cli') => (entry: FlagEntry): Flag => ({
  name: entry.cli.flag,
  path: entry.path,
  owner,
  entry,
  group: entry.cli.group,
  arg: entry.option.type === 'boolean' ? undefined : entry.cli.arg,
  // Help texts are written for the library: `option` names become `--flags` in the terminal.
  help: entry.option.help,
  defaultText: entry.option.type === 'boolean' ? 'off' : defaultText(entry.option).replace(/^'(.*)'$/, '$1').replace(/^\[\]$/, 'none'),
  boolean: entry.option.type === 'boolean',
  multiple: entry.cli.multiple,
});

const FLAGS: readonly Flag[] = [
  ...PROXY_OPTIONS.flags().map(fromEntry('proxy')),
  ...CLI_OPTIONS.flags().map(fromEntry('cli')),
  { name: 'config', path: undefined, owner: 'none', entry: undefined, group: 'Process', arg: 'FILE', help: 'JSON file with any of these options, keyed by flag name without dashes; flags win over it.', defaultText: 'none', boolean: false, multiple: false },
  { name: 'help', path: undefined, owner: 'none', entry: undefined, group: 'Process', arg: undefined, help: 'Show this help and exit.', defaultText: undefined, boolean: true, multiple: false, short: 'h' },
  { name: 'version', path: undefined, owner: 'none', entry: undefined, group: 'Process', arg: undefined, help: 'Print the version and exit.', defaultText: undefined, boolean: true, multiple: false },
];

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));
const BY_PATH = new Map(FLAGS.filter((f) => f.path !== undefined).map((f) => [f.path as string, f]));
const FLAG_NAMES = FLAGS.map((f) => f.name);
const CONFIG_KEYS = FLAGS.filter((f) => f.owner !== 'none').map((f) => f.name);
const COMMANDS = ['run', 'demo', 'help', 'version'] as const;
const PARSE_OPTIONS = Object.fromEntries(
  FLAGS.map((f) => [f.name, { type: f.boolean ? 'boolean' : 'string', ...(f.multiple && { multiple: true }), ...(f.short !== undefined && { short: f.short }) }]),
) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

// ---------------------------------------------------------------------------------------------------
// parseCliArgs

/** One setting as the user gave it, and where: a flag, a config file key or an environment variable. */
interface Raw {
  value: unknown;
  /** How to name it in an error: `--listen`, `"listen" in ltf.json`, `$LEGACY_TLS_REPORT_TOKEN`. */
  label: string;
  /** A config file's directory, against which its relative paths are read. */
  base?: string;
}

export function parseCliArgs(argv: string[], env: Record<string, string | undefined>, readFile: (path: string) => string, context: ParseContext = {}): ParsedCli {
  // A first, lenient pass: --help and --version win over everything, then unknown flags get a suggestion.
  const { tokens: looseTokens } = parseArgs({ args: argv, options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const named = looseTokens.filter((t) => t.kind === 'option').map((t) => t.name);
  const firstPositional = looseTokens.find((t) => t.kind === 'positional');
  const word = firstPositional?.kind === 'positional' ? firstPositional.value : undefined;
  const early = named.includes('help') || word === 'help' ? 'help' : named.includes('version') || word === 'version' ? 'version' : undefined;
  if (early) return { command: early, config: resolveSettings(early, new Map(), () => '', context) };

  for (const token of looseTokens) {
    if (token.kind === 'option' && !BY_NAME.has(token.name)) {
      const suggestion = closest(token.name, FLAG_NAMES);
      throw new UsageError(`${PROGRAM}: unknown option ${token.rawName}; ${suggestion ? `did you mean --${suggestion}?` : 'see --help for the options.'}`, token.rawName);
    }
  }

  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(argv);
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    throw new UsageError(`${PROGRAM}: ${message}.`, flag);
  }

  const counts = new Map<string, number>();
  for (const token of parsed.tokens) if (token.kind === 'option') counts.set(token.name, (counts.get(token.name) ?? 0) + 1);
  for (const [name, count] of counts) {
    if (count > 1 && !BY_NAME.get(name)?.multiple) throw new UsageError(`${PROGRAM}: --${name} is given ${count} times; give it once.`, `--${name}`);
  }

  if (parsed.positionals.length > 1) {
    throw new UsageError(`${PROGRAM}: unexpected argument ${JSON.stringify(parsed.positionals[1])}; give at most one command (run or demo), options start with --.`, parsed.positionals[1]);
  }
  const positional = parsed.positionals[0];
  let command: CliCommand = 'run';
  if (positional !== undefined) {
    if (!(COMMANDS as readonly string[]).includes(positional)) {
      const suggestion = closest(positional, COMMANDS);
      throw new UsageError(`${PROGRAM}: unknown command ${JSON.stringify(positional)}; ${suggestion ? `did you mean ${suggestion}?` : 'the commands are run (the default), demo, router-config and analyse (which comes first: analyse FILE...).'}`, positional);
    }
    command = positional as CliCommand;
  }

  const raw = new Map<string, Raw>();
  const configFile = parsed.values.config as string | undefined;
  if (configFile !== undefined) for (const [key, value] of readConfigFile(configFile, readFile)) raw.set(key, value);
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name === 'config' || value === undefined) continue;
    raw.set(name, { value, label: `--${name}` });
  }
  for (const flag of FLAGS) {
    const variable = flag.entry?.cli.env;
    if (variable !== undefined && !raw.has(flag.name) && env[variable] !== undefined && env[variable] !== '') raw.set(flag.name, { value: env[variable], label: `$${variable}` });
  }
  return { command, config: resolveSettings(command, raw, readFile, context) };
}

function strictParse(argv: string[]) {
  return parseArgs({ args: argv, options: PARSE_OPTIONS, strict: true, allowPositionals: true, tokens: true });
}

function readConfigFile(file: string, readFile: (path: string) => string): Map<string, Raw> {
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    throw unreadable('--config', file, error, 'a JSON file');
  }
  const json = text.replace(/^\uFEFF/, '');
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    // Not V8's message itself: on Node 20 it has a position for some mistakes, nothing for others, and
    // it may quote the file's text, report token included.
    const where = locateJsonError(json);
    const detail = where ? `line ${where.line}, column ${where.column}: ${where.reason}` : errorText(error);
    throw new UsageError(`${PROGRAM}: --config ${JSON.stringify(file)} is not valid JSON: ${detail}.`, '--config');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`${PROGRAM}: --config ${JSON.stringify(file)} must hold a JSON object such as {"upstream": "http://127.0.0.1:3000"}.`, '--config');
  }
  const name = path.basename(file);
  const result = new Map<string, Raw>();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const label = `${JSON.stringify(key)} in ${name}`;
    const flag = BY_NAME.get(key);
    if (!flag || flag.owner === 'none') {
      const suggestion = closest(key.replace(/^-+/, ''), CONFIG_KEYS);
      throw new UsageError(`${PROGRAM}: ${label} is not an option; ${suggestion ? `did you mean ${JSON.stringify(suggestion)}?` : 'the keys are the long option names without dashes (see --help).'}`, label);
    }
    if (value === null || value === undefined) continue;
    result.set(key, { value, label, base: path.dirname(file) });
  }
  return result;
}

/** From a flag's (or config key's) raw value to what its option takes. */
function optionValue(flag: Flag, raw: Raw): unknown {
  const cli = flag.entry!.cli;
  const relative = (p: unknown) => (cli.path && raw.base !== undefined && typeof p === 'string' && p !== '' && !path.isAbsolute(p) ? path.join(raw.base, p) : p);
  const read = (text: unknown) => (typeof text === 'string' ? cli.parse(text, flag.path!) : text);
  if (flag.boolean) {
    if (typeof raw.value !== 'boolean') throw bad(raw.label, raw.value, 'expected true or false');
    return raw.value;
  }
  if (flag.multiple) {
    const items = Array.isArray(raw.value) ? raw.value : [raw.value];
    if (items.some((item) => typeof item !== 'string')) throw bad(raw.label, raw.value, 'expected a string or an array of strings');
    return items.flatMap((item) => read(relative(item)) as unknown[]);
  }
  if (typeof raw.value === 'number') return read(String(raw.value));
  return read(relative(raw.value));
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const [head, ...rest] = dotted.split('.');
  if (rest.length === 0) {
    target[head as string] = value;
    return;
  }
  const inner = (target[head as string] ??= {}) as Record<string, unknown>;
  setPath(inner, rest.join('.'), value);
}

function resolveSettings(command: CliCommand, raw: Map<string, Raw>, readFile: (path: string) => string, context: ParseContext): CliSettings {
  const label = (name: string) => raw.get(name)?.label ?? `--${name}`;
  /** The user's name for an option path: its flag as given (`--listen`, `"listen" in ltf.json`), else the option. */
  const nameOf = (option: string) => {
    const flag = BY_PATH.get(option.replace(/\[\d+\]$/, ''));
    if (flag) return label(flag.name);
    // A part of an object-valued option (`hosts['api.example.com'].mode`): the flag that carries it.
    const owner = BY_PATH.get(/^([A-Za-z]\w*)[[.]/.exec(option)?.[1] ?? '');
    return owner ? `${label(owner.name)} (at ${option})` : `option \`${option}\``;
  };
  const asUsage = (error: unknown) => (error instanceof InvalidOptionError ? new UsageError(`${PROGRAM}: ${error.describe(nameOf)}`, nameOf(error.option)) : error);

  const proxyInput: Record<string, unknown> = {};
  const cliInput: Record<string, unknown> = {};
  try {
    for (const [name, value] of raw) {
      const flag = BY_NAME.get(name)!;
      if (flag.owner === 'none') continue;
      setPath(flag.owner === 'proxy' ? proxyInput : cliInput, flag.path!, optionValue(flag, value));
    }
  } catch (error) {
    throw asUsage(error);
  }

  const upstreamRaw = raw.get('upstream');
  if (command === 'demo' && upstreamRaw) {
    throw new UsageError(`${PROGRAM}: ${upstreamRaw.label} cannot be used with demo, which starts its own upstream site; drop it, or drop demo.`, upstreamRaw.label);
  }
  if (command === 'run' && !upstreamRaw) {
    throw new UsageError(`${PROGRAM}: --upstream is missing; give the URL of the site to put behind the proxy, e.g. --upstream http://127.0.0.1:3000 (or try \`${PROGRAM} demo\`).`, '--upstream');
  }
  // The demo site's address is known only once it listens: main puts it in.
  if (command !== 'run') proxyInput.upstream = 'http://127.0.0.1/';

  const page = (proxyInput.page ?? {}) as Record<string, unknown>;
  const ownPage = proxyInput.fallbackPage !== undefined || proxyInput.fallbackUrl !== undefined;
  const demoPage = command === 'demo' && !ownPage && !CONTACT_FLAGS.some((name) => page[name] !== undefined);
  // The demo's page should read like a configured one; example.com and an Ofcom drama number reach nobody.
  if (demoPage) proxyInput.page = { ...page, organisation: page.organisation ?? DEMO_PAGE.organisation, email: DEMO_PAGE.email, phone: DEMO_PAGE.phone };

  let config: ProxyConfig;
  let cli: ReturnType<typeof CLI_OPTIONS.resolve>;
  try {
    config = resolveProxyConfig(proxyInput as ProxyOptions);
    cli = CLI_OPTIONS.resolve(cliInput);
  } catch (error) {
    throw asUsage(error);
  }
  if (config.fallbackPageFile !== undefined) checkFallbackPage(config.fallbackPageFile, label('fallback-page'), readFile);
  return {
    ...config,
    statsFile: config.statsFile ?? path.join(cli.stateDir, 'stats.json'),
    stateDir: cli.stateDir,
    logFormat: cli.logFormat ?? (context.isTTY ? 'pretty' : 'json'),
    demoPage,
  };
}

function checkFallbackPage(file: string, label: string, readFile: (path: string) => string): void {
  let html: string;
  try {
    html = readFile(file);
  } catch (error) {
    throw unreadable(label, file, error, 'an HTML file');
  }
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes > MAX_FALLBACK_PAGE_BYTES) {
    throw new UsageError(`${PROGRAM}: ${label} ${JSON.stringify(file)} is ${Math.ceil(bytes / 1024)} KiB; keep the page under ${MAX_FALLBACK_PAGE_BYTES / 1024} KiB (old clients are slow; serve large assets from a path given with --exclude).`, label);
  }
  if (html.includes('\u0000') || !/<(!doctype\s+html|html|head|body)\b/i.test(html)) {
    throw new UsageError(`${PROGRAM}: ${label} ${JSON.stringify(file)} does not look like an HTML page; expected a file starting with <!DOCTYPE html> or <html>.`, label);
  }
}

/**
 * A file the user named that cannot be read, with the fix for the actual cause: a permission problem is
 * not solved by giving "the path of a PEM file" again.
 */
export function unreadable(label: string, file: string, error: unknown, what: string): UsageError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const shown = `${label} ${JSON.stringify(file)}`;
  let message: string;
  if (code === 'EACCES' || code === 'EPERM') {
    const user = processUser();
    message =
      `${shown} cannot be read: permission denied (${code}) for ${user.description}, which this process runs as. ` +
      `Give that user read access to the file and search (x) access to each directory above it (for example setfacl -m u:${user.name}:r on the file), ` +
      `or copy it where that user may read it, or run ${PROGRAM} as a user who can read it.`;
  } else if (code === 'EISDIR') {
    message = `${shown} is a directory; give the path of ${what}.`;
  } else {
    message = `${shown} cannot be read (${errorText(error)}); give the path of ${what}.`;
  }
  return new UsageError(`${PROGRAM}: ${message}`, label);
}

/** `user "www-data" (uid 33)`; the uid alone where there is no passwd entry (containers). */
function processUser(): { name: string; description: string } {
  const uid = process.getuid?.();
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = undefined;
  }
  const shownName = name ?? (uid === undefined ? 'this user' : String(uid));
  const description = name === undefined ? (uid === undefined ? 'the current user' : `uid ${uid}`) : `user ${JSON.stringify(name)}${uid === undefined ? '' : ` (uid ${uid})`}`;
  return { name: shownName, description };
}

function bad(label: string, value: unknown, expected: string): UsageError {
  const json = JSON.stringify(value) ?? String(value);
  return new UsageError(`${PROGRAM}: ${label} is ${json.length > 120 ? `${json.slice(0, 117)}...` : json}; ${expected}.`, label);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------------
// helpText

/** Option names in a help text, as the terminal spells them: `` `fallbackUrl` `` → `--fallback-url`. */
function asFlags(text: string): string {
  return text.replace(/`([a-z][A-Za-z.]*)`/g, (match, name: string) => {
    const flag = BY_PATH.get(name) ?? BY_NAME.get(name);
    return flag ? `--${flag.name}` : match;
  });
}

/**
 * The command's options as Markdown, one table per group, for docs/proxy.md (`npm run docs` writes it
 * there; a test fails when the page and these definitions disagree).
 */
export function flagTables(): string {
  const code = (text: string) => `\`${text}\``;
  const cell = (text: string) => asFlags(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const usage = (flag: Flag) => code(`--${flag.name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`).replace(/\|/g, '\\|');
  return GROUPS.map((group) =>
    [
      `**${group}**`,
      '',
      '| Flag | Default | Description |',
      '| --- | --- | --- |',
      ...FLAGS.filter((f) => f.group === group).map((flag) => {
        const variable = flag.entry?.cli.env;
        const defaults = flag.defaultText === undefined ? '' : cell(flag.defaultText);
        return `| ${usage(flag)}${flag.multiple ? ' (repeatable)' : ''} | ${defaults} | ${cell(flag.help)}${variable ? ` Environment: ${code(variable)}.` : ''} |`;
      }),
    ].join('\n'),
  ).join('\n\n');
}

export function helpText(): string {
  const lines: string[] = [
    `${PROGRAM}: put a TLS 1.0/1.1-capable HTTPS proxy in front of a site. Modern clients reach the site;`,
    'clients on old TLS (or old browsers) get a contact page instead, and the numbers are counted.',
    '',
    'Usage:',
    `  ${PROGRAM} --upstream URL [options]   run the proxy in front of URL`,
    `  ${PROGRAM} demo [options]             try it against a built-in demo site`,
    `  ${PROGRAM} report --merge FILE...     one report from the stats files of several servers (report --help)`,
    `  ${PROGRAM} analyse [options] FILE...  read existing access logs: the same report, before deploying (analyse --help)`,
    '',
    'Every option can also be set in the JSON file given with --config, keyed by the option name without',
    'the dashes ({"upstream": "http://127.0.0.1:3000", "cert": ["rsa.pem", "ecdsa.pem"], "upstream-insecure": true}).',
    'Flags win over the file, the file over environment variables; paths in the file are relative to it.',
  ];
  const usage = (flag: Flag) => `${flag.short === undefined ? '' : `-${flag.short}, `}--${flag.name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`;
  const width = Math.max(...FLAGS.map((f) => usage(f).length)) + 2;
  for (const group of GROUPS) {
    lines.push('', `${group}:`);
    for (const flag of FLAGS.filter((f) => f.group === group)) {
      const variable = flag.entry?.cli.env;
      const defaults = flag.defaultText === undefined ? '' : ` [default: ${asFlags(flag.defaultText).replace(/`/g, '')}]`;
      lines.push(`  ${usage(flag).padEnd(width)}${asFlags(flag.help).replace(/`/g, '')}${variable ? ` [env: $${variable}]` : ''}${defaults}`);
    }
  }
  lines.push(
    '',
    'Examples:',
    `  ${PROGRAM} demo`,
    `  ${PROGRAM} --upstream http://127.0.0.1:3000 --email help@example.com --phone '+44 20 7946 0000'`,
    `  ${PROGRAM} --upstream http://127.0.0.1:3000 --listen 443 --http-listen 80 \\`,
    '      --cert /etc/ssl/rsa.pem --key /etc/ssl/rsa.key --cert /etc/ssl/ecdsa.pem --key /etc/ssl/ecdsa.key',
    `  ${PROGRAM} --upstream https://app.internal --upstream-insecure --mode observe --workers auto`,
    `  ${PROGRAM} --config /etc/${PROGRAM}.json --listen [::]:8443`,
    '',
    'Signals: SIGHUP re-reads the certificate files; SIGTERM or SIGINT stop gracefully; a second one cuts the requests in flight (the counts are still saved) and exits 1.',
    'Exit status: 0 stopped cleanly, 1 an error, 2 a usage or configuration error.',
    '',
  );
  return lines.join('\n');
}

/**
 * An option error met after parsing (at start-up: Redis refusing the `redisUrl`), named by its flag as
 * `--help` spells it: `--redis-url`.
 */
export function describeOptionError(error: InvalidOptionError): string {
  const flagOf = (option: string) => {
    const flag = BY_PATH.get(option.replace(/\[\d+\]$/, ''));
    return flag ? `--${flag.name}` : `option \`${option}\``;
  };
  return `${PROGRAM}: ${error.describe(flagOf)}`;
}

/** The long flag names, for tests and completion. */
export const CLI_FLAGS: readonly string[] = FLAG_NAMES;
