import type { ClientInfo, LegacyReason, OfferedVersion, TlsFacts, Verdict } from '../types.js';
import { compareVersionParts, DEFAULT_USER_AGENT_POLICY, parseVersion, type BrowserFamily, type ClassificationPolicy } from './policy.js';
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
  const legacy = reasons.length > 0;
  // Says why, never decides: the page or the site is still the policy's answer for this connection.
  if (facts.offered !== undefined && isInterceptedOrSpoofed(facts.offered.maxVersion, client)) reasons.push('intercepted-or-spoofed');
  return { legacy, reasons, tls: facts, client };
}

// What a ClientHello offering at most this cannot come from a current browser by itself.
const AT_MOST_TLS_1_0: ReadonlySet<OfferedVersion> = new Set<OfferedVersion>(['SSLv2', 'SSLv3', 'TLSv1']);
// Families of which every version offers TLS 1.2 by default.
const ALWAYS_MODERN: ReadonlySet<string> = new Set(['Edge', 'Samsung Internet', 'Chrome iOS', 'Firefox iOS']);

/**
 * A user agent naming a browser that offers TLS 1.2 by itself (a version at or above its row in the
 * default table, which is that fact, whatever the owner's policy), on a connection whose ClientHello
 * offers nothing above TLS 1.0: something between the browser and us made that hello (a TLS-inspecting
 * middlebox, old antivirus), or the client is not that browser (a bot lying about itself).
 */
export function isInterceptedOrSpoofed(offered: OfferedVersion, client: ClientInfo): boolean {
  if (!AT_MOST_TLS_1_0.has(offered) || client.kind !== 'browser' || client.browser === null || client.version === null) return false;
  if (ALWAYS_MODERN.has(client.browser)) return true;
  if (!Object.hasOwn(DEFAULT_USER_AGENT_POLICY, client.browser)) return false;
  const parts = parseVersion(client.version);
  return parts.length > 0 && compareVersionParts(parts, parsedMinimum(DEFAULT_USER_AGENT_POLICY[client.browser as BrowserFamily])) >= 0;
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
