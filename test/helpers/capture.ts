import { execFile } from 'node:child_process';
import net from 'node:net';
import { ClientHelloReader, type ClientHelloRead } from '../../src/tls/client-hello.js';
import { listenOn } from './servers.js';

export interface Capture {
  read: ClientHelloRead;
  /** Every byte received before the reader decided. */
  bytes: Uint8Array;
  /** How many 'data' events carried them. */
  chunks: number;
}

/**
 * Captures the first ClientHello a client sends: a plain TCP server on loopback feeds each chunk to a
 * ClientHelloReader and hangs up once it has decided, so the client's handshake fails (its error is
 * not this helper's business).
 */
export async function captureClientHello(client: (port: number) => Promise<unknown>): Promise<Capture> {
  let resolveCapture!: (capture: Capture) => void;
  const captured = new Promise<Capture>((resolve) => (resolveCapture = resolve));
  const server = net.createServer((socket) => {
    const reader = new ClientHelloReader();
    const chunks: Buffer[] = [];
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const read = reader.push(chunk);
      if (read.status === 'need-more') return;
      socket.destroy();
      resolveCapture({ read, bytes: Buffer.concat(chunks), chunks: chunks.length });
    });
  });
  try {
    const port = await listenOn(server);
    const [capture] = await Promise.all([captured, client(port).catch(() => undefined)]);
    return capture;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Runs a command to completion, whatever its exit status (a client whose handshake was cut fails). */
export function run(command: string, args: string[], input = ''): Promise<void> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 20_000 }, () => resolve());
    child.stdin?.end(input);
  });
}

/** Writes `bytes` to 127.0.0.1:port one byte per write, each flushed before the next (no Nagle). */
export async function writeByteByByte(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  socket.setNoDelay(true);
  for (let i = 0; i < bytes.length; i++) {
    await new Promise<void>((resolve, reject) => socket.write(bytes.subarray(i, i + 1), (error) => (error ? reject(error) : resolve())));
  }
}
