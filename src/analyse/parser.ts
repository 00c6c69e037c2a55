import type { LogFormatName, LogRecord } from './types.js';

/**
 * Reads the lines of one input in one format. `parse` answers a record, `null` for a line that is
 * valid but carries none (a comment, a `#Fields:` header, an error-log line about something else), or
 * a string saying why the line is unreadable. Parsers never throw on input.
 */
export interface LineParser {
  readonly family: LogFormatName;
  /** Which layout of the family, for the summary (`combined + "$ssl_protocol"`, `httpslog`, …). */
  readonly layout: string;
  /** Whether the format carries the field at all. JSON formats turn it on when a line has the key. */
  hasProtocol: boolean;
  hasUserAgent: boolean;
  parse(line: string): LogRecord | string | null;
  /** Lines whose protocol field held something that is no protocol: a sign the layout does not fit. */
  readonly unknownProtocols?: number;
  /** Given the input's first lines before any is parsed, for what only the data can tell. */
  learn?(sample: readonly string[]): void;
}
