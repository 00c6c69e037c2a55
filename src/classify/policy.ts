import type { TlsProtocol } from '../types.js';

/** Normalised client families that have a row in the "which clients are legacy" table. */
export type BrowserFamily =
  | 'IE'
  | 'IE Mobile'
  | 'Chrome'
  | 'Firefox'
  | 'Safari'
  | 'Mobile Safari'
  | 'Android Browser'
  | 'Opera'
  | 'Java';

export const BROWSER_FAMILIES: readonly BrowserFamily[] = Object.freeze([
  'IE',
  'IE Mobile',
  'Chrome',
  'Firefox',
  'Safari',
  'Mobile Safari',
  'Android Browser',
  'Opera',
  'Java',
] as const);

/**
 * First version of each family with TLS 1.2 on by default; anything below is legacy.
 * Edge and Samsung Internet have no row because no version of them is legacy.
 */
export const DEFAULT_USER_AGENT_POLICY: Readonly<Record<BrowserFamily, string>> = Object.freeze({
  IE: '11',
  'IE Mobile': '11',
  Chrome: '30',
  Firefox: '27',
  Safari: '7',
  // The table says "iOS 5", but this row is compared with the `Version/` token: iOS 5.x sends
  // `Version/5.1` while iOS 4.2–4.3 (TLS 1.0 only) send `Version/5.0.2`, so '5' would miss them.
  'Mobile Safari': '5.1',
  // Compared with the Android OS version, which is what the stock browser's TLS depends on.
  'Android Browser': '4.4',
  Opera: '17',
  Java: '1.8',
});

export const DEFAULT_LEGACY_PROTOCOLS: ReadonlySet<TlsProtocol> = new Set<TlsProtocol>(['TLSv1', 'TLSv1.1']);

/** Per-family overrides: a version (string or number), or `false` for "never legacy". */
export type UserAgentPolicyOverrides = Partial<Record<BrowserFamily, string | number | false>>;

export interface ClassificationPolicy {
  /** Negotiated protocols that make a request legacy on their own. */
  legacyProtocols: ReadonlySet<TlsProtocol>;
  /** Minimum version per family; a family without a row is never legacy by user agent. `false` = rule off. */
  userAgents: Readonly<Partial<Record<BrowserFamily, string>>> | false;
}

export interface PolicyInput {
  /** @default ['TLSv1', 'TLSv1.1'] */
  legacyProtocols?: Iterable<TlsProtocol> | undefined;
  /** Merged over {@link DEFAULT_USER_AGENT_POLICY}; `false` switches the user-agent rule off. */
  userAgents?: UserAgentPolicyOverrides | false | undefined;
}

const FAMILY_SET: ReadonlySet<string> = new Set(BROWSER_FAMILIES);

export function buildPolicy(input: PolicyInput = {}): ClassificationPolicy {
  const legacyProtocols: ReadonlySet<TlsProtocol> =
    input.legacyProtocols === undefined ? DEFAULT_LEGACY_PROTOCOLS : new Set(input.legacyProtocols);
  return Object.freeze({ legacyProtocols, userAgents: mergeUserAgents(input.userAgents) });
}

function mergeUserAgents(
  overrides: UserAgentPolicyOverrides | false | undefined,
): Readonly<Partial<Record<BrowserFamily, string>>> | false {
  if (overrides === false) return false;
  const merged: Partial<Record<BrowserFamily, string>> = { ...DEFAULT_USER_AGENT_POLICY };
  if (overrides != null) {
    for (const [family, value] of Object.entries(overrides)) {
      // Unknown keys are the options module's to report; here they must not leak into the table.
      if (!FAMILY_SET.has(family) || value === undefined) continue;
      const key = family as BrowserFamily;
      if (value === false) delete merged[key];
      else merged[key] = String(value);
    }
  }
  return Object.freeze(merged);
}

/**
 * Numeric parts of a dotted version; `_` counts as a dot (`1.7.0_25`) and anything from the first
 * non-numeric character on is ignored (`12.16b` → [12, 16]). Empty when there is no leading number.
 */
export function parseVersion(version: string): number[] {
  const match = /^\d+(?:[._]\d+)*/.exec(version.trim());
  if (match === null) return [];
  return match[0].split(/[._]/).map(Number);
}

/** -1, 0 or 1 like a sort comparator; missing parts count as 0, so '30' equals '30.0.0'. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  return compareVersionParts(parseVersion(a), parseVersion(b));
}

/** {@link compareVersions} for versions already split by {@link parseVersion}. */
export function compareVersionParts(left: readonly number[], right: readonly number[]): -1 | 0 | 1 {
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const l = left[i] ?? 0;
    const r = right[i] ?? 0;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}
