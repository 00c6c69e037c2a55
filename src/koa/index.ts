/** `legacy-tls-fallback/koa`: the middleware and the report as Koa middleware (this entry types `ctx.state.legacyTls`). */
export { legacyTlsFallback, type LegacyTlsFallbackOptions } from './middleware.js';
export { legacyTlsReport } from './report.js';
export type { Verdict, TlsFacts, ClientInfo } from '../types.js';
