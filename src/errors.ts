/** Stable codes, so callers can branch without parsing messages. */
export type LegacyTlsErrorCode = 'ERR_LEGACY_TLS_OPTION' | 'ERR_LEGACY_TLS_CERTIFICATE';

export class LegacyTlsError extends Error {
  readonly code: LegacyTlsErrorCode;

  constructor(code: LegacyTlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A bad option. The message names the option, shows the value it got and says what would be valid,
 * because the person reading it is usually looking at a config file, not at our source.
 */
export class InvalidOptionError extends LegacyTlsError {
  readonly option: string;

  constructor(option: string, value: unknown, expected: string) {
    super('ERR_LEGACY_TLS_OPTION', `legacy-tls-fallback: option \`${option}\` is ${describe(value)}; ${expected}.`);
    this.option = option;
  }

  /** An option name we do not know. Its value is not shown: a misspelt `token` would print the secret. */
  static unknown(option: string, hint: string): InvalidOptionError {
    const error = new InvalidOptionError(option, undefined, hint);
    error.message = `legacy-tls-fallback: \`${option}\` is not an option here; ${hint}`;
    return error;
  }
}

export class CertificateError extends LegacyTlsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LEGACY_TLS_CERTIFICATE', `legacy-tls-fallback: ${message}`, options);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
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
