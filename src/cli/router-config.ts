/**
 * `legacy-tls-fallback router-config nginx|haproxy --modern 127.0.0.1:8443 …`: prints the complete
 * configuration of a TCP router (nginx `stream` + `ssl_preread`, or HAProxy in TCP mode) that sends
 * modern clients to the existing TLS server and legacy ones to this package, run in its legacy-only
 * mode (`--accept-proxy-protocol`). Pure: argv in, text or a `UsageError` out; the flags are derived
 * from the generator's own option descriptions (ROUTER_CONFIG_OPTIONS), one per option.
 */
import { parseArgs } from 'node:util';
import { InvalidOptionError } from '../errors.js';
import { routerConfig, ROUTER_KINDS, type RouterConfigOptions, type RouterKind } from '../router-config/index.js';
import { ROUTER_CONFIG_OPTIONS } from '../router-config/options.js';
import { closest } from '../schema/typo.js';
import { PROGRAM, UsageError } from './options.js';

export const ROUTER_CONFIG_COMMAND = 'router-config';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface RouterFlag {
  option: keyof typeof ROUTER_CONFIG_OPTIONS.specs;
  flag: string;
  kind: 'text' | 'number' | 'switch' | 'list';
}

// Switches whose default is on are turned off with --no-…; the others are turned on by their name.
const FLAGS: readonly RouterFlag[] = (Object.keys(ROUTER_CONFIG_OPTIONS.specs) as (keyof typeof ROUTER_CONFIG_OPTIONS.specs)[]).map((option) => {
  const spec = ROUTER_CONFIG_OPTIONS.specs[option];
  const kind = option === 'listen' ? 'list' : spec.type === 'boolean' ? 'switch' : spec.type === 'number' ? 'number' : 'text';
  const flag = kind === 'switch' && spec.default === true ? `no-${kebab(option)}` : kebab(option);
  return { option, flag, kind };
});

export function routerConfigHelp(): string {
  const lines = FLAGS.map(({ option, flag, kind }) => {
    const spec = ROUTER_CONFIG_OPTIONS.specs[option];
    const arg = kind === 'switch' ? '' : kind === 'number' ? ' N' : ' VALUE';
    const fallback = spec.required ? ' (required)' : spec.defaultText !== undefined ? ` [default: ${spec.defaultText}]` : spec.default !== undefined && kind !== 'switch' ? ` [default: ${String(spec.default)}]` : '';
    const help = kind === 'switch' && flag.startsWith('no-') ? `Do not: ${spec.help[0]!.toLowerCase()}${spec.help.slice(1)}` : spec.help;
    return `  --${flag}${arg}\n      ${help}${fallback}`;
  });
  return `Usage: ${PROGRAM} ${ROUTER_CONFIG_COMMAND} nginx|haproxy --modern HOST:PORT --legacy HOST:PORT [options]

Prints a complete configuration for a TCP router in front of your existing TLS server: clients whose
ClientHello offers TLS 1.2 or higher go to --modern untouched; the others go to --legacy, where
${PROGRAM} runs with --accept-proxy-protocol <router address> and shows them the fallback page.

${lines.join('\n')}
  --help
      Show this help and exit.

Example:
  ${PROGRAM} ${ROUTER_CONFIG_COMMAND} nginx --modern 127.0.0.1:8443 --legacy 127.0.0.1:9443 --listen 0.0.0.0:443 > /etc/nginx/legacy-tls-router.conf
  ${PROGRAM} --upstream http://127.0.0.1:3000 --listen 127.0.0.1:9443 --accept-proxy-protocol loopback
`;
}

export type RouterConfigCommand = { help: true } | { help: false; kind: RouterKind; options: RouterConfigOptions };

export function parseRouterConfigArgs(argv: string[]): RouterConfigCommand {
  const parseOptions = Object.fromEntries([
    ...FLAGS.map((f) => [f.flag, { type: f.kind === 'switch' ? 'boolean' : 'string', ...(f.kind === 'list' && { multiple: true }) }] as const),
    ['help', { type: 'boolean', short: 'h' }],
  ]) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof parseOptions; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: parseOptions, allowPositionals: true, strict: true });
  } catch (error) {
    const name = /'(--?[^' ]+)/.exec((error as Error).message)?.[1];
    const suggestion = name ? closest(name.replace(/^-+/, ''), [...FLAGS.map((f) => f.flag), 'help']) : undefined;
    throw new UsageError(`${PROGRAM} ${ROUTER_CONFIG_COMMAND}: ${(error as Error).message}${suggestion ? `; did you mean --${suggestion}?` : ''}`, name);
  }
  if (parsed.values.help === true) return { help: true };
  const [kind, extra] = parsed.positionals;
  if (kind === undefined || !(ROUTER_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`${PROGRAM} ${ROUTER_CONFIG_COMMAND}: name the router, ${ROUTER_KINDS.join(' or ')}${kind === undefined ? '' : ` (got ${JSON.stringify(kind)})`}.`, kind);
  }
  if (extra !== undefined) throw new UsageError(`${PROGRAM} ${ROUTER_CONFIG_COMMAND}: unexpected argument ${JSON.stringify(extra)}; options start with --.`, extra);
  const options: Record<string, unknown> = {};
  for (const { option, flag, kind: type } of FLAGS) {
    const value = parsed.values[flag];
    if (value === undefined) continue;
    if (type === 'switch') options[option] = !flag.startsWith('no-');
    else if (type === 'number') options[option] = /^\d{1,10}$/.test(String(value)) ? Number(value) : value;
    else if (option === 'streamModule' && value === 'none') options[option] = null;
    else options[option] = value;
  }
  return { help: false, kind: kind as RouterKind, options: options as unknown as RouterConfigOptions };
}

/** The config text, or a `UsageError` naming the flag at fault. */
export function routerConfigText(command: Extract<RouterConfigCommand, { help: false }>): string {
  try {
    return routerConfig(command.kind, command.options);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const flagOf = (name: string) => {
      const entry = FLAGS.find((f) => f.option === name.replace(/\[\d+\]$/, ''));
      return entry ? `--${entry.flag}` : `--${kebab(name)}`;
    };
    const source = flagOf(error.option);
    throw new UsageError(`${PROGRAM} ${ROUTER_CONFIG_COMMAND}: ${error.describe((name) => flagOf(name), source)}`, source);
  }
}
