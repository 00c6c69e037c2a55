import { CLIENT_HELLO_OUTCOMES, OFFERED_VERSIONS, type ClientHelloOutcome, type ClientKind, type FallbackAction, type HandshakeFailureReason, type LegacyReason, type OfferedVersion, type TlsProtocol } from '../types.js';

/**
 * The label sets counts are kept under, and their keys: the one place that joins labels into a map key
 * and splits one back. Keys stay flat strings (the stats file stays small and maps stay fast); every
 * reader decodes them here, with their types. Booleans are `1`/`0` in every key.
 */

export type ProtocolLabel = TlsProtocol | 'none';
export const PROTOCOL_LABELS: readonly ProtocolLabel[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'none'];
export const CLIENT_KINDS: readonly ClientKind[] = ['browser', 'bot', 'library', 'unknown'];
export const FALLBACK_ACTIONS: readonly FallbackAction[] = ['redirected', 'rendered', 'refused', 'observed', 'passed', 'excluded', 'rejected', 'warned', 'interstitial', 'page'];
export const FAILURE_REASONS: readonly HandshakeFailureReason[] = ['protocol-too-old', 'no-shared-cipher', 'not-tls', 'other', 'timeout', 'evicted', 'connection-limit'];
export type UpstreamErrorStatus = '502' | '504';
export const UPSTREAM_ERROR_STATUSES: readonly UpstreamErrorStatus[] = ['502', '504'];
export const OTHER = 'other';
/** What the pass-through did with a connection: relayed to the existing server, or terminated here. */
export type PassThroughOutcome = 'relayed' | 'terminated' | 'upstream-unavailable';
export const PASS_THROUGH_OUTCOMES: readonly PassThroughOutcome[] = ['relayed', 'terminated', 'upstream-unavailable'];
export const LEGACY_REASONS: readonly LegacyReason[] = ['tls-version', 'user-agent', 'intercepted-or-spoofed'];
export { CLIENT_HELLO_OUTCOMES };

/** The labels of one request. Never hold an address or a user agent. */
export interface RequestLabels {
  protocol: ProtocolLabel;
  kind: ClientKind;
  legacy: boolean;
  /** Legacy by user agent (whatever the protocol): needed for the what-if figures. */
  uaLegacy: boolean;
  tlsLegacy: boolean;
  /** A current browser's user agent on a hello offering nothing above TLS 1.0 (see LegacyReason). */
  intercepted?: boolean;
  action: FallbackAction;
  /** Client label (`clientLabel`) of a legacy client; `null` for modern clients. */
  client: string | null;
  /** OS family (`osLabel`), `null` when unknown. */
  os: string | null;
  /** The keys derived from the labels above, when the caller has them precomputed. */
  keys?: SampleKeys;
}

export interface SampleKeys {
  request: string;
  totals: string;
  visitors: string[];
}

export function sampleKeys(sample: Omit<RequestLabels, 'keys'>): SampleKeys {
  return {
    request: requestKey(sample),
    totals: totalsKey(sample),
    visitors: visitorKeys(sample),
  };
}

const bit = (value: boolean) => (value ? '1' : '0');

// ----------------------------------------------------------------------------------------------------
// Hourly request counts: protocol, kind, legacy, legacy by user agent.

export interface RequestKey {
  protocol: ProtocolLabel;
  kind: ClientKind;
  legacy: boolean;
  uaLegacy: boolean;
}

export function requestKey(key: RequestKey): string {
  return `${key.protocol}|${key.kind}|${bit(key.legacy)}|${bit(key.uaLegacy)}`;
}

export function parseRequestKey(key: string): RequestKey | null {
  const [protocol, kind, legacy, uaLegacy, extra] = key.split('|');
  if (extra !== undefined || !isProtocol(protocol) || !isKind(kind) || !isBit(legacy) || !isBit(uaLegacy)) return null;
  return { protocol, kind, legacy: legacy === '1', uaLegacy: uaLegacy === '1' };
}

// ----------------------------------------------------------------------------------------------------
// All-time request totals (the Prometheus label set): protocol, legacy, kind, action.

export interface TotalsKey {
  protocol: ProtocolLabel;
  legacy: boolean;
  kind: ClientKind;
  action: FallbackAction;
}

export function totalsKey(key: TotalsKey): string {
  return `${key.protocol}|${bit(key.legacy)}|${key.kind}|${key.action}`;
}

export function parseTotalsKey(key: string): TotalsKey | null {
  const [protocol, legacy, kind, action, extra] = key.split('|');
  if (extra !== undefined || !isProtocol(protocol) || !isBit(legacy) || !isKind(kind) || !(FALLBACK_ACTIONS as readonly string[]).includes(action ?? '')) return null;
  return { protocol, legacy: legacy === '1', kind, action: action as FallbackAction };
}

// ----------------------------------------------------------------------------------------------------
// Handshakes: protocol, resumed.

export interface HandshakeKey {
  protocol: ProtocolLabel;
  resumed: boolean;
}

export function handshakeKey(key: HandshakeKey): string {
  return `${key.protocol}|${bit(key.resumed)}`;
}

export function parseHandshakeKey(key: string): HandshakeKey | null {
  const [protocol, resumed, extra] = key.split('|');
  if (extra !== undefined || !isProtocol(protocol) || !isBit(resumed)) return null;
  return { protocol, resumed: resumed === '1' };
}

// ----------------------------------------------------------------------------------------------------
// Failed handshakes by what the hello offered: highest version and JA4 fingerprint.

export interface FingerprintKey {
  offered: OfferedVersion;
  /** JA4 fingerprint; never holds `|` (its alphabet is `[a-z0-9_]`). */
  ja4: string;
}

export function fingerprintKey(key: FingerprintKey): string {
  return `${key.offered}|${key.ja4}`;
}

/** `null` for the `other` bucket and for anything not written by `fingerprintKey`. */
export function parseFingerprintKey(key: string): FingerprintKey | null {
  const [offered, ja4, extra] = key.split('|');
  if (extra !== undefined || ja4 === undefined || !/^[a-z0-9_]{1,64}$/.test(ja4) || !(OFFERED_VERSIONS as readonly (string | undefined)[]).includes(offered)) return null;
  return { offered: offered as OfferedVersion, ja4 };
}

export function isClientHelloOutcome(value: string | undefined): value is ClientHelloOutcome {
  return (CLIENT_HELLO_OUTCOMES as readonly (string | undefined)[]).includes(value);
}

// ----------------------------------------------------------------------------------------------------
// Visitor sketch classes: one per protocol, plus legacy by user agent; each split browsers / others.

export interface VisitorClass {
  protocol: ProtocolLabel | 'ua-legacy';
  human: 'browser' | 'other';
}

export function visitorKeys(sample: Pick<RequestLabels, 'protocol' | 'kind' | 'uaLegacy'>): string[] {
  const human = sample.kind === 'browser' ? 'browser' : 'other';
  const keys = [`${sample.protocol}|${human}`];
  if (sample.uaLegacy) keys.push(`ua-legacy|${human}`);
  return keys;
}

export function parseVisitorKey(key: string): VisitorClass | null {
  const [protocol, human, extra] = key.split('|');
  if (extra !== undefined || (protocol !== 'ua-legacy' && !isProtocol(protocol)) || (human !== 'browser' && human !== 'other')) return null;
  return { protocol, human };
}

// ----------------------------------------------------------------------------------------------------
// Legacy clients: family and significant version, OS family.

export interface ClientLabel {
  /** Family (`IE`, `Java`), `unknown` when the user agent names none; `other` for the bucket of the rest. */
  browser: string;
  /** The part of the version that matters for TLS (`8`, `1.7`, `4.3`), `null` when unknown. */
  version: string | null;
  /** OS family (`Windows XP`), `null` when unknown. */
  os: string | null;
}

/** `IE 8|Windows XP`: family and the part of the version that matters for TLS, and the OS family. */
export function clientLabel(browser: string | null, version: string | null, os: string | null): string {
  const family = printable((browser ?? 'unknown').slice(0, 48));
  return `${family} ${version === null ? '?' : printable(significantVersion(version))}|${os === null ? '?' : osLabel(os)}`;
}

export function parseClientLabel(label: string): ClientLabel {
  if (label === OTHER) return { browser: OTHER, version: null, os: null };
  const bar = label.lastIndexOf('|');
  const client = bar < 0 ? label : label.slice(0, bar);
  const os = bar < 0 ? '?' : label.slice(bar + 1);
  const space = client.lastIndexOf(' ');
  const browser = space < 0 ? client : client.slice(0, space);
  const version = space < 0 ? '?' : client.slice(space + 1);
  return { browser, version: version === '?' ? null : version, os: os === '?' ? null : os };
}

/** `IE 8 on Windows XP`; unknown parts are left out rather than printed. */
export function describeClient(label: string): string {
  const { browser, version, os } = parseClientLabel(label);
  const name = version === null ? browser : `${browser} ${version}`;
  return os === null ? name : `${name} on ${os}`;
}

/** `Windows XP`, `iOS 6`, `Android 4.3`, `Mac OS 10.8`: few enough values to be a label. */
export function osLabel(os: string): string {
  return printable(os.slice(0, 32));
}

// Java and Android matter to the minor version (1.7 vs 1.8, 4.3 vs 4.4); browsers to the major.
function significantVersion(version: string): string {
  const parts = version.split(/[._]/);
  const keep = parts[0] === '1' || /^[2-4]$/.test(parts[0] ?? '') ? 2 : 1;
  return parts.slice(0, keep).join('.').slice(0, 16);
}

// Labels come from user agents and end up in the file, the report and log lines: printable ASCII only,
// which also keeps each character to at most two bytes of JSON (see maxStatsFileBytes).
function printable(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : text.replace(/[^\x20-\x7e]/g, '?');
}

function isProtocol(value: string | undefined): value is ProtocolLabel {
  return (PROTOCOL_LABELS as readonly (string | undefined)[]).includes(value);
}

function isKind(value: string | undefined): value is ClientKind {
  return (CLIENT_KINDS as readonly (string | undefined)[]).includes(value);
}

function isBit(value: string | undefined): value is '0' | '1' {
  return value === '0' || value === '1';
}

/**
 * Version 1 of the stats file spelt the booleans of the totals and handshake keys `true`/`false`; the
 * other keys always had `1`/`0`. Loading a version 1 file reads its keys through this.
 */
export function fromVersion1Key(key: string): string {
  return key.replace(/\|true(?=\||$)/g, '|1').replace(/\|false(?=\||$)/g, '|0');
}

// ----------------------------------------------------------------------------------------------------
// Sites: requests per host and per path group, in four cells by legacy verdict and browser or not.

/** The cells of a site's counts, in this order. */
export const SITE_CELLS = [
  { legacy: false, browser: false },
  { legacy: false, browser: true },
  { legacy: true, browser: false },
  { legacy: true, browser: true },
] as const;

/** Index into a site's cells (`SITE_CELLS`). */
export function siteCell(legacy: boolean, browser: boolean): number {
  return (legacy ? 2 : 0) + (browser ? 1 : 0);
}
