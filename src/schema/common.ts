import { InvalidOptionError } from '../errors.js';
import type { Logger } from '../types.js';
import { custom, type Option } from './option.js';

/** The `logger` option every feature takes: anything with a `warn(message)`, such as pino or `console`. */
export function loggerOption(help: string): Option<Logger | undefined> {
  return custom<Logger | undefined>({
    type: '{ warn(message), info?(message) }',
    defaultText: '`console`',
    help,
    validate: (value, name) => {
      if (typeof (value as Logger | null)?.warn === 'function') return value as Logger;
      throw new InvalidOptionError(name, value, 'expected an object with a warn(message) method, such as a pino logger or console');
    },
  });
}

/** Where a feature's warnings go: the logger's `warn`, or `console.warn`. */
export function warnerOf(logger: Logger | undefined): (message: string) => void {
  if (logger === undefined) return (message) => console.warn(message);
  return (message) => logger.warn(message);
}

/** Control characters in anything that may end up in a header, a URL or a log line are an injection, not a typo. */
export function hasControlCharacters(value: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(value); // eslint-disable-line no-control-regex
}
