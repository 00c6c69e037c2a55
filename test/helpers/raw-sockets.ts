import net from 'node:net';
import tls from 'node:tls';

/** A TCP connection that says nothing, and whether the server has closed it. */
export interface SilentSocket {
  socket: net.Socket;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connects and sends nothing (the "silent TCP connection" of a descriptor-exhaustion attack). */
export async function openSilent(port: number, localAddress?: string): Promise<SilentSocket> {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress && { localAddress }) });
  socket.on('error', () => undefined);
  socket.resume();
  let closed = false;
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed: closedPromise, isClosed: () => closed };
}

/**
 * The ClientHello a real Node TLS client sends, recorded off the wire by a TCP server that answers
 * nothing, so tests can replay all of it, part of it, or dribble it.
 */
export function recordClientHello(options: tls.ConnectionOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const recorder = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        recorder.close();
      });
    });
    recorder.on('error', reject);
    recorder.listen(0, '127.0.0.1', () => {
      const { port } = recorder.address() as net.AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...options });
      client.on('error', () => undefined);
    });
  });
}

/** Resolves once `server` has accepted `count` more TCP connections than when this was called. */
export function accepted(server: net.Server, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onConnection = () => {
      if (++seen < count) return;
      server.off('connection', onConnection);
      resolve();
    };
    server.on('connection', onConnection);
  });
}
