/**
 * `legacy-tls-fallback`: the framework-neutral core. Koa's middleware is `legacy-tls-fallback/koa`,
 * Express's `legacy-tls-fallback/express`, the standalone proxy `legacy-tls-fallback/proxy`.
 */
export { createLegacyTlsServer, HANDSHAKE_FAILURE_EVENT, type LegacyTlsServer, type RequestHandler } from './tls/server.js';
export { tlsFacts, normaliseTlsVersion, parseTrustedTlsHeader } from './tls/facts.js';
export { cipherListFor, type MinTlsVersion } from './tls/profiles.js';
export { generateSelfSignedCertificate, type PemPair } from './tls/self-signed.js';
export type { HandshakeFailure } from './tls/handshake-failure.js';
export { renderFallbackPage, createPageRenderer, type PageRenderer, type PageRendererOptions, type SwitchOffPhase } from './fallback/page.js';
export { negotiateLanguage } from './fallback/negotiate.js';
export type { Localised } from './fallback/page-options.js';
export type { PageTexts } from './fallback/texts/types.js';
export { classifyClient } from './classify/classify.js';
export { parseUserAgent } from './classify/user-agent.js';
export { buildPolicy, DEFAULT_USER_AGENT_POLICY, type BrowserFamily, type ClassificationPolicy, type UserAgentPolicyOverrides } from './classify/policy.js';
export { LegacyTlsError, InvalidOptionError, CertificateError, StatsFileLockedError, type LegacyTlsErrorCode, type StatsFileHolder } from './errors.js';
export type { LegacyTlsServerOptions, PemInput } from './tls/options.js';
export type { FallbackOptions, FallbackPageContent, FallbackPageRenderer, ExcludeRule } from './fallback/options.js';
export type { Logger } from './types.js';
export type { TlsFacts, TlsProtocol, ClientInfo, ClientKind, Verdict, LegacyReason, FallbackMode, FallbackAction, HandshakeFailureReason } from './types.js';
export { TrafficStats, type InstanceStatus, type RequestRecord, type StorageStatus } from './stats/traffic-stats.js';
export { redisStore, RedisStore, type RedisStoreOptions } from './stats/stores/redis.js';
export type { StatsStore, StoreContext } from './stats/stores/store.js';
export { registerLegacyTlsMetrics } from './report/formats/prometheus.js';
export { legacyTlsReportHandler } from './report/handler.js';
export { buildReport, REPORT_SCHEMA, REPORT_VERSION, type ReportDocument, type WindowReport, type WhatIfRow, type LegacyClientRow, type SeriesPoint, type WindowName } from './report/document.js';
export type { TrafficStatsOptions } from './stats/options.js';
export type { LegacyTlsReportOptions } from './report/options.js';
// Access logs read into the same report, before anything is deployed (`legacy-tls-fallback analyse`).
export { analyseLogs, type LogAnalysis, type AnalysisDocument, type AnalysisInfo, type AnalysedInput, type ImportResult } from './analyse/analyse.js';
export type { AnalyseOptions, AnalyseProgress } from './analyse/options.js';
export { formatSummary } from './analyse/summary.js';
export { readLogRecords, LogReadError, LogFormatError, LOG_FORMAT_NAMES, type LogRecord, type LogFormatName, type LogInputStats } from './analyse/index.js';
export { FileStore } from './stats/stores/file.js';
// The switch-off plan (issue 15): options per host and group, and what the report says of them.
export type { GroupOptions, GroupsOption, HostsOption, NoticeKind, SiteOptions } from './fallback/options.js';
export type { ReadinessOptions } from './report/options.js';
export type { Readiness, SiteRow, SitesReport, SiteSwitchOff, SiteWindow } from './report/sites.js';
// The ClientHello census, and keeping modern traffic off the Node path (pass-through, router behind).
export { clientHelloOf, type ClientHelloFacts } from './tls/census.js';
export { knownClient, KNOWN_CLIENTS_SOURCE, type KnownClient, type KnownClientEntry } from './tls/known-clients.js';
export { isInterceptedOrSpoofed } from './classify/classify.js';
export type { OfferedTls, OfferedVersion, ClientHelloOutcome } from './types.js';
export type { NamedFailureRow } from './report/document.js';
export {
  createRelay,
  RELAY_SERVER_OPTIONS,
  createProxyHeaderAcceptor,
  proxiedPeer,
  type Relay,
  type RelayOptions,
  type RelayCensusRecord,
  type RelayOutcome,
  type ProxyHeaderAcceptor,
  type ProxyHeaderAcceptorOptions,
} from './relay/index.js';
export { routerConfig, parseRouterLogLine, ROUTER_KINDS, type RouterConfigOptions, type RouterKind, type RouterLogRecord } from './router-config/index.js';
