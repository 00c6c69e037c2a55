import type { FallbackPageContent } from '../options.js';
import type { MinTlsVersion } from '../tls/profiles.js';
import type { FallbackMode } from '../types.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Everything the standalone proxy needs, fully resolved and validated (by the CLI) before start. */
export interface ProxyConfig {
  /** The site behind the proxy: `http:` or `https:` origin, optionally with a base path. */
  upstream: URL;
  /** Skip verification of an https upstream's certificate. */
  upstreamInsecure: boolean;
  /** Send the upstream's host as Host instead of the client's. */
  changeOrigin: boolean;
  listen: ListenAddress;
  /** Plain-HTTP listener (redirects to HTTPS, ACME, XP fallback), or null for none. */
  httpListen: ListenAddress | null;
  /** PEM files; several pairs allowed (RSA + ECDSA). Empty: a self-signed certificate kept in `stateDir`. */
  certificates: { certFile: string; keyFile: string }[];
  /** Directory for the generated certificate, token and default stats file. */
  stateDir: string;
  minTls: MinTlsVersion;
  mode: FallbackMode;
  fallbackUrl: string | undefined;
  /**
   * Host names this proxy answers for; decide whether `fallbackUrl` is on this site (never a request's
   * Host header). Empty: the DNS names in the certificates.
   */
  serverNames: string[];
  /** HTML file served as the fallback page instead of the built-in one. */
  fallbackPageFile: string | undefined;
  page: FallbackPageContent;
  exclude: string[];
  statsFile: string;
  /** Report token; the CLI generates and stores one when none is given. */
  reportToken: string;
  reportPrefix: string;
  trustedHeader: string | undefined;
  trustedProxies: string[];
  /** Worker processes; 1 runs everything in this process. */
  workers: number;
  timeouts: {
    /** Client must send all request headers within this (slowloris). */
    headers: number;
    /** Client must send the whole request within this. */
    request: number;
    /** Idle keep-alive connections are closed after this. */
    keepAlive: number;
    /** Upstream must start its response within this, or the client gets 504. */
    upstreamHeaders: number;
    /** Upstream may pause a response body at most this long. */
    upstreamBody: number;
    /** Requests in flight get this long to finish on SIGTERM/SIGINT. */
    shutdownGrace: number;
    /** From accept to a finished TLS handshake; the library's default (10 s) when absent. */
    handshake?: number;
    /** From accept to the first byte of the ClientHello; the library's default (5 s) when absent. */
    clientHello?: number;
  };
  /**
   * Most client connections open at once, per process and listener. On the HTTPS listener a full
   * process closes its oldest handshake stuck for over a second to let a new client in, and refuses
   * the new client only when there is none.
   */
  maxConnections: number;
  /** Most unfinished TLS handshakes from one address (IPv6: /64); 0 for no cap. The library's default (32) when absent. */
  maxHandshakesPerAddress?: number;
  logFormat: 'json' | 'pretty';
}

/** Where the proxy logs: the CLI wires it to stdout/stderr; tests capture it. */
export interface ProxyLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface RunningProxy {
  /** The URLs actually bound (ports resolved when 0 was asked). */
  urls: { https: string; http: string | null; report: string };
  /** Re-reads the certificate files; keeps the old ones and returns false when the new ones are bad. */
  reloadCertificates(): Promise<boolean>;
  /** Stops accepting, lets requests in flight finish within `graceMs`, flushes the stats. */
  close(graceMs?: number): Promise<void>;
  /**
   * Settles, with the reason, when the proxy has given up serving on its own (a cluster whose workers
   * keep dying); never otherwise. The CLI then stops and exits 1, so the service manager restarts it.
   */
  failed?: Promise<Error>;
}
