import type { ProxyConfig } from '../proxy/config.js';
import { CONTACT_FLAGS } from './options.js';

/**
 * The built-in fallback page exists to give legacy visitors another way to reach the site's owners:
 * without an e-mail address, a phone number or a postal address it can only tell them to upgrade.
 * Nothing to say when the page is the user's own (--fallback-page) or elsewhere (--fallback-url).
 */
export function contactWarning(config: Pick<ProxyConfig, 'page' | 'fallbackUrl' | 'fallbackPageFile'>): string | undefined {
  if (config.fallbackUrl !== undefined || config.fallbackPageFile !== undefined) return undefined;
  const { page } = config;
  if (typeof page === 'function' || CONTACT_FLAGS.some((name) => page[name] !== undefined)) return undefined;
  const flags = CONTACT_FLAGS.map((name) => `--${name}`).join(', ');
  return `the fallback page gives legacy visitors no way to reach you: set at least one of ${flags} (or serve your own page with --fallback-page, or send them elsewhere with --fallback-url)`;
}

/** A word for a POSIX shell command line: as is when it is safe, else in single quotes. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
