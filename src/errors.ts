/** Stable codes, so callers can branch without parsing messages. */
export type LegacyTlsErrorCode = 'ERR_LEGACY_TLS_OPTION' | 'ERR_LEGACY_TLS_CERTIFICATE' | 'ERR_LEGACY_TLS_STATS_FILE_LOCKED';

export class LegacyTlsError extends Error {
  readonly code: LegacyTlsErrorCode;

  constructor(code: LegacyTlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A bad option. It carries the option, the value it got and what would be valid, so that each caller
 * can say it in its own terms: the library names `fallbackUrl`, the command line `--fallback-url` or
 * `"fallback-url" in ltf.json`. `expected` may name other options as `{{name}}`.
 */
export class InvalidOptionError extends LegacyTlsError {
  /** The option as the library names it; nested ones dotted (`page.email`, `exclude[2]`). */
  readonly option: string;
  /** The value given (`'<hidden>'` for secrets), `undefined` for an option name that does not exist. */
  readonly value: unknown;
  /** What would be valid, completing "expected …" or a reason; other options appear as `{{name}}`. */
  readonly expected: string;
  /** True when the option name itself is unknown (a typo): the value is never shown. */
  readonly unknownOption: boolean;

  constructor(option: string, value: unknown, expected: string, unknownOption = false) {
    super('ERR_LEGACY_TLS_OPTION', '');
    this.option = option;
    this.value = value;
    this.expected = expected;
    this.unknownOption = unknownOption;
    this.message = `legacy-tls-fallback: ${this.describe((name) => `\`${name}\``, unknownOption ? `\`${option}\`` : `option \`${option}\``)}`;
  }

  /** An option name we do not know. Its value is not shown: a misspelt `token` would print the secret. */
  static unknown(option: string, hint: string): InvalidOptionError {
    return new InvalidOptionError(option, undefined, hint, true);
  }

  /**
   * The message without the package prefix, naming options with `name` (the CLI passes its flag
   * labels) and this option as `label`.
   */
  describe(name: (option: string) => string, label = name(this.option)): string {
    const expected = this.expected.replace(/\{\{([\w.[\]-]+)\}\}/g, (_, other: string) => name(other));
    if (this.unknownOption) return `${label} is not an option here; ${expected}`;
    return `${label} is ${describe(this.value)}; ${expected}.`;
  }
}

export class CertificateError extends LegacyTlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LEGACY_TLS_CERTIFICATE', `legacy-tls-fallback: ${message}`, options);
  }
}

/** Who holds a stats file, as its lock file says: enough to find that process. */
export interface StatsFileHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the file. */
  since: string;
}

/**
 * Another writer has the stats file. Two writers would overwrite each other's counts at every flush,
 * so this one never writes it: `TrafficStats` keeps counting in memory, rejects `ready` with this
 * error, logs it once and shows it as the storage error of the report.
 */
export class StatsFileLockedError extends LegacyTlsError {
  readonly file: string;
  readonly lockFile: string;
  /** Null when the lock file could not be read (it is being written, or unreadable). */
  readonly holder: StatsFileHolder | null;

  /**
   * `held`: another process had the lock when this one started; `same-process`: another TrafficStats
   * in this process; `taken-over`: another process took the lock while this one held it.
   */
  constructor(file: string, lockFile: string, holder: StatsFileHolder | null, how: 'held' | 'same-process' | 'taken-over') {
    const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}` : `its lock file ${lockFile} is being written or cannot be read`;
    const message = {
      held: `the stats file ${file} is in use by another process (${who}), so this one will not write it: two writers would overwrite each other's counts. Counting goes on in memory only. Stop the other process, or give this one a stats file of its own (statsFile, --stats-file); if no such process is running, delete ${lockFile}.`,
      'same-process': `the stats file ${file} is already open in this process (by another TrafficStats, ${holder ? `since ${holder.since}` : 'just now'}), so this one will not write it: the two would overwrite each other's counts. Counting goes on in memory only. Share one TrafficStats between the server, the middleware and the report, or close() the other one first.`,
      'taken-over': `this process no longer holds the stats file ${file}: another process took over its lock ${lockFile} (${who}), which happens when this one has not touched it for a minute (a frozen or suspended process). This one stops writing the file so as not to overwrite that one's counts; what it counted since its last write is kept in memory only.`,
    }[how];
    super('ERR_LEGACY_TLS_STATS_FILE_LOCKED', `legacy-tls-fallback: ${message}`);
    this.file = file;
    this.lockFile = lockFile;
    this.holder = holder && { pid: holder.pid, host: holder.host, since: holder.since };
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'function') return 'a function';
  if (value instanceof RegExp) return String(value);
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
