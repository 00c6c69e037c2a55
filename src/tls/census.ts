/**
 * The ClientHello census: every connection's first bytes are read before the TLS layer sees them, so
 * that what each client *offered* (highest version, SNI, ALPN, JA4) is known, also for the connections
 * whose handshake fails and that never make a request. The bytes are then put back (`unshift`) and the
 * TLS layer reads them as if nobody had: Node's TLS server feeds what a socket already buffered into
 * OpenSSL before it reads the socket itself (`initRead` in lib/_tls_wrap.js).
 */
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import type { ClientHelloOutcome, OfferedTls, OfferedVersion } from '../types.js';
import { CLIENT_HELLO_MAX_WIRE_BYTES, readClientHello, SSL_3_0, TLS_1_0, TLS_1_1, TLS_1_2, TLS_1_3, type ClientHello, type ClientHelloRead } from './client-hello.js';
import { ja4 } from './ja4.js';

/** What a connection's ClientHello offered, kept for as long as the connection lives. */
export interface ClientHelloFacts {
  /** Version and JA4: one object per connection, shared by its requests' facts and its failure. */
  offered: OfferedTls;
  /** The `server_name` the hello asked for (lower-case, host-name characters only), `null` when none. */
  serverName: string | null;
  /** The ALPN protocols offered, as Latin-1 strings (one char per byte): escape them before display. */
  alpn: readonly string[];
}

/** The facts of each connection whose hello was read, by its TCP socket; gone with the socket. */
const helloBySocket = new WeakMap<Socket, ClientHelloFacts>();

/**
 * The ClientHello facts of a connection, when the census read them: pass the TCP socket, or the TLS
 * socket a server made of it (`req.socket`), whose TCP socket Node keeps as `_parent`.
 */
export function clientHelloOf(socket: Socket | undefined): ClientHelloFacts | null {
  if (!socket) return null;
  const parent = (socket as Socket & { _parent?: Socket })._parent;
  return helloBySocket.get(socket) ?? (parent ? helloBySocket.get(parent) : undefined) ?? null;
}

/** What a TCP socket's hello offered (version and JA4 only), when the census read it. */
export function offeredOf(raw: Socket | undefined): OfferedTls | null {
  return clientHelloOf(raw)?.offered ?? null;
}

/** Sockets whose first bytes a listener in front already read and counted (the pass-through relay). */
const handedOver = new WeakSet<Socket>();

/**
 * For a listener that read the hello itself, counted the connection, and hands the socket on to the
 * TLS server: its facts (`null` when it had none, such as not TLS), so the census neither reads nor
 * counts it again.
 */
export function rememberClientHello(raw: Socket, facts: ClientHelloFacts | null): void {
  handedOver.add(raw);
  if (facts) helloBySocket.set(raw, facts);
}

/**
 * The highest version a server could negotiate with this hello. Without `supported_versions` no server
 * negotiates TLS 1.3, whatever `client_version` says; a version above TLS 1.3 in `supported_versions`
 * comes with TLS 1.3 (GREASE and drafts are already left out by the reader).
 */
export function offeredVersion(hello: Pick<ClientHello, 'maxVersion' | 'supportedVersions'>): OfferedVersion {
  let version = hello.maxVersion;
  if (version > TLS_1_2 && hello.supportedVersions.length === 0) version = TLS_1_2;
  if (version >= TLS_1_3) return 'TLSv1.3';
  if (version >= TLS_1_2) return 'TLSv1.2';
  if (version >= TLS_1_1) return 'TLSv1.1';
  if (version >= TLS_1_0) return 'TLSv1';
  if (version >= SSL_3_0) return 'SSLv3';
  return 'SSLv2';
}

export function clientHelloFacts(hello: ClientHello): ClientHelloFacts {
  return { offered: Object.freeze({ maxVersion: offeredVersion(hello), ja4: ja4(hello) }), serverName: hello.serverName, alpn: hello.alpn };
}

/** The census label of a decided read. */
export function outcomeOf(read: Exclude<ClientHelloRead, { status: 'need-more' }>): ClientHelloOutcome {
  switch (read.status) {
    case 'complete':
      return offeredVersion(read.hello);
    case 'not-tls':
      return 'not-tls';
    default:
      return 'unreadable';
  }
}

export interface CensusHooks {
  /** Once per connection: what its first bytes were, and the hello's facts when there was one. */
  outcome(raw: Socket, outcome: ClientHelloOutcome, hello: ClientHelloFacts | null): void;
  /**
   * A connection that ended before a whole hello arrived, and that the TLS layer therefore never saw:
   * the failure it would have reported (`ECONNRESET`, the socket's own error, or Node's handshake timeout).
   */
  lost(raw: Socket, code: string): void;
}

export interface CensusSettings {
  /**
   * Milliseconds from accept to a whole hello. Node's own `handshakeTimeout` starts when the TLS layer
   * gets the socket, which is after the hello: without this a peer sending one byte would be held forever.
   */
  helloTimeout: number;
}

export interface Census {
  /** Whether a byte of the connection's ClientHello has arrived (the guard's first-byte deadline). */
  started(raw: Socket): boolean;
}

/** The code a connection gets when its hello did not arrive whole in time: Node's own, for the same event. */
export const HELLO_TIMEOUT_CODE = 'ERR_TLS_HANDSHAKE_TIMEOUT';

/**
 * Puts the census between accept and the TLS layer of `server`: its own `connection` listeners (Node's
 * `tlsConnectionListener`) are taken off and called once the first bytes have decided what the
 * connection is, with those bytes put back. Listeners added later (the connection guard prepends its
 * own) see the connection at accept, as before. A connection destroyed before the census saw it (refused
 * at the connection limit) never reaches the TLS layer.
 */
export function installCensus(server: tls.Server, settings: CensusSettings, hooks: CensusHooks): Census {
  const tlsListeners = server.listeners('connection') as ((this: tls.Server, raw: Socket) => void)[];
  if (tlsListeners.length === 0) throw new Error('legacy-tls-fallback: the TLS server has no connection listener to put the census in front of');
  server.removeAllListeners('connection');
  const started = new WeakSet<Socket>();
  const handOn = (raw: Socket) => {
    for (const listener of tlsListeners) listener.call(server, raw);
  };
  server.on('connection', (raw: Socket) => {
    if (raw.destroyed) return;
    // A listener in front (the pass-through relay) read this hello already, and counted it.
    if (handedOver.has(raw)) {
      started.add(raw);
      handOn(raw);
      return;
    }
    readFirstBytes(raw, settings.helloTimeout, started, hooks, handOn);
  });
  return { started: (raw) => started.has(raw) };
}

/**
 * Reads the connection until `readClientHello` decides, then puts every byte back and hands the socket
 * on. The bytes are copied into one buffer that doubles as it grows (a peer sending a byte per segment
 * costs linear work and no object per byte), and never grow past the reader's own bound plus one chunk.
 */
function readFirstBytes(raw: Socket, helloTimeout: number, started: WeakSet<Socket>, hooks: CensusHooks, handOn: (raw: Socket) => void): void {
  let buffer: Buffer | null = null;
  let length = 0;
  let error: string | null = null;

  const timer = setTimeout(() => {
    error ??= HELLO_TIMEOUT_CODE;
    raw.destroy();
  }, helloTimeout);
  const detach = () => {
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('error', onError);
    raw.off('close', onClose);
  };
  const onError = (cause: Error) => {
    error ??= (cause as NodeJS.ErrnoException).code ?? 'ECONNRESET';
  };
  const onClose = () => {
    detach();
    hooks.outcome(raw, 'no-hello', null);
    hooks.lost(raw, error ?? 'ECONNRESET');
  };
  function onData(chunk: Buffer): void {
    started.add(raw);
    let bytes = chunk;
    if (buffer !== null || length > 0) {
      buffer = grow(buffer, length, chunk.length);
      chunk.copy(buffer, length);
      length += chunk.length;
      bytes = buffer.subarray(0, length);
    }
    const read = readClientHello(bytes);
    if (read.status === 'need-more') {
      if (buffer === null) {
        buffer = grow(null, 0, chunk.length);
        chunk.copy(buffer, 0);
        length = chunk.length;
      }
      return;
    }
    detach();
    raw.pause();
    raw.unshift(bytes);
    buffer = null;
    let facts: ClientHelloFacts | null = null;
    if (read.status === 'complete') {
      facts = clientHelloFacts(read.hello);
      helloBySocket.set(raw, facts);
    }
    hooks.outcome(raw, outcomeOf(read), facts);
    handOn(raw);
  }

  raw.on('data', onData);
  raw.on('error', onError);
  raw.on('close', onClose);
  // A socket may come paused (a PROXY header acceptor before this): 'data' alone would not start it.
  raw.resume();
}

// Room for `more` bytes after `length`: doubling, from 1 KiB, never above the reader's bound plus the chunk.
function grow(buffer: Buffer | null, length: number, more: number): Buffer {
  const needed = length + more;
  if (buffer && buffer.length >= needed) return buffer;
  const size = Math.max(needed, Math.min(2 * (buffer?.length ?? 0), CLIENT_HELLO_MAX_WIRE_BYTES), 1024);
  const grown = Buffer.allocUnsafe(size);
  if (buffer) buffer.copy(grown, 0, 0, length);
  return grown;
}
