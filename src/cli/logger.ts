import type { ProxyLogger } from '../proxy/config.js';

export type LogFormat = 'json' | 'pretty';
type Level = 'info' | 'warn' | 'error';

const RESERVED = new Set(['time', 'level', 'msg']);

/**
 * The proxy's logger. `info` goes to `write`, `warn` and `error` to `writeErr`; each call is one line,
 * passed without its trailing newline. `json`: `{"time":"<ISO 8601>","level":"info","msg":"…",…fields}`;
 * `pretty`: `HH:MM:SS info  message key=value`. Callers log events (start, stop, reload, problems,
 * periodic summaries), never individual requests.
 */
export function createLogger(
  format: LogFormat,
  write: (line: string) => void,
  writeErr: (line: string) => void,
  now: () => Date = () => new Date(),
): ProxyLogger {
  const log = (level: Level, message: string, fields: Record<string, unknown> = {}) => {
    const line = format === 'json' ? jsonLine(now(), level, message, fields) : prettyLine(now(), level, message, fields);
    (level === 'info' ? write : writeErr)(line);
  };
  return {
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
  };
}

function jsonLine(time: Date, level: Level, msg: string, fields: Record<string, unknown>): string {
  const record: Record<string, unknown> = { time: time.toISOString(), level, msg };
  // A field named like a core key must not overwrite it: it is kept under a prefixed name instead.
  for (const [key, value] of Object.entries(fields)) record[RESERVED.has(key) ? `field.${key}` : key] = value;
  try {
    return JSON.stringify(record, replacer);
  } catch {
    return JSON.stringify({ time: record.time, level, msg, fields: '[unserialisable]' });
  }
}

function prettyLine(time: Date, level: Level, message: string, fields: Record<string, unknown>): string {
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${oneLine(key)}=${prettyValue(value)}`);
  return [clock, level.padEnd(5), oneLine(message), ...pairs].join(' ');
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return value !== '' && /^[^\s"=]+$/.test(value) ? oneLine(value) : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value, replacer) ?? String(value);
  } catch {
    return '[unserialisable]';
  }
}

/** One event, one line: a newline inside a message must not forge a second log line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1)); // eslint-disable-line no-control-regex
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return { name: value.name, message: value.message, ...(code !== undefined && { code }) };
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof URL) return value.href;
  return value;
}
