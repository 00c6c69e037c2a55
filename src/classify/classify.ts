import type { ClientInfo, LegacyReason, TlsFacts, Verdict } from '../types.js';
import { compareVersionParts, parseVersion, type BrowserFamily, type ClassificationPolicy } from './policy.js';
import { parseUserAgent } from './user-agent.js';

/** Pure verdict for one request: the negotiated protocol is the fact, the user agent a hint. */
export function classifyClient(
  facts: TlsFacts,
  userAgent: string | undefined | null,
  policy: ClassificationPolicy,
): Verdict {
  return classifyClientInfo(facts, parseUserAgent(userAgent), policy);
}

/** Same as {@link classifyClient} for a client that has already been parsed. */
export function classifyClientInfo(facts: TlsFacts, client: ClientInfo, policy: ClassificationPolicy): Verdict {
  const reasons: LegacyReason[] = [];
  // A trusted proxy's header that names no known version (SSLv3, `none`, two disagreeing values, junk)
  // is legacy: failing open would let any client past a proxy that appends instead of setting it.
  if (facts.protocol === null ? facts.source === 'header' : policy.legacyProtocols.has(facts.protocol)) reasons.push('tls-version');
  if (isLegacyClient(client, policy)) reasons.push('user-agent');
  return { legacy: reasons.length > 0, reasons, tls: facts, client };
}

/**
 * Whether the user agent names a family version below its row in the policy. Unknown families,
 * unknown or unreadable versions, and bots are never legacy by user agent.
 */
export function isLegacyClient(client: ClientInfo, policy: ClassificationPolicy): boolean {
  // Crawlers borrow browser names they do not run; sending Googlebot to the fallback page because
  // its user agent mentions an old engine would cost the site its index entry, not help a person.
  if (policy.userAgents === false || client.kind === 'bot') return false;
  const { browser, version } = client;
  if (browser === null || version === null || !Object.hasOwn(policy.userAgents, browser)) return false;
  const minimum = policy.userAgents[browser as BrowserFamily];
  if (minimum === undefined) return false;
  const parts = parseVersion(version);
  const minimumParts = parsedMinimum(minimum);
  if (parts.length === 0 || minimumParts.length === 0) return false;
  return compareVersionParts(parts, minimumParts) < 0;
}

// A policy's minimums are a handful of fixed strings, parsed once instead of on every new user agent.
const parsedMinimums = new Map<string, readonly number[]>();

function parsedMinimum(minimum: string): readonly number[] {
  let parts = parsedMinimums.get(minimum);
  if (parts === undefined) {
    parts = parseVersion(minimum);
    // Policies come from configuration, but a program could build many: keep the map bounded anyway.
    if (parsedMinimums.size >= 256) parsedMinimums.clear();
    parsedMinimums.set(minimum, parts);
  }
  return parts;
}
