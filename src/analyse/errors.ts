import { LOG_FORMAT_NAMES } from './types.js';

export type LogErrorCode = 'ERR_LEGACY_TLS_LOG_FORMAT' | 'ERR_LEGACY_TLS_LOG_INPUT';

/** What stops a run before its records can be trusted: a log whose format cannot be told, an input that cannot be opened. */
export class LogReadError extends Error {
  readonly code: LogErrorCode;
  /** The input concerned, as given (`-` for stdin). */
  readonly input: string;

  constructor(code: LogErrorCode, input: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.input = input;
  }
}

/** No known format reads the first lines of an input; the message names what was tried and the way out. */
export class LogFormatError extends LogReadError {
  readonly candidates: readonly string[];

  constructor(input: string, firstLine: string, candidates: readonly string[]) {
    const shown = firstLine === '' ? 'it has no line to read' : `its first line is "${printable(firstLine, 120)}"`;
    super(
      'ERR_LEGACY_TLS_LOG_FORMAT',
      input,
      `legacy-tls-fallback: cannot tell the format of ${input}: ${shown}. Tried: ${candidates.join('; ')}. ` +
        `Name the format (${LOG_FORMAT_NAMES.join(', ')}) and, for a custom nginx, Apache or HAProxy layout, ` +
        'give its log_format / LogFormat / log-format string.',
    );
    this.candidates = candidates;
  }
}

/**
 * Text from a log, made safe to print on a terminal and cut to `max` characters: control characters and
 * bidirectional overrides (which could rewrite what the reader sees) are shown as `\xHH` / `\u{…}`.
 */
export function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.slice(0, max * 2).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
  if (safe.length <= max && text.length <= max * 2) return safe;
  // Cut before an escape sequence rather than through it.
  const cut = safe.slice(0, max);
  const escape = cut.lastIndexOf('\\');
  return `${escape > max - 10 ? cut.slice(0, escape) : cut}…`;
}
