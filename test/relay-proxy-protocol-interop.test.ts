/**
 * The PROXY protocol against the real senders and receivers, on loopback: HAProxy `send-proxy` (v1) and
 * `send-proxy-v2`, over IPv4 and IPv6, and nginx's stream `proxy_protocol on` (v1 only), toward a
 * listener of ours; and our v2 encoder read by HAProxy's and nginx's `accept-proxy`/`proxy_protocol`.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxyHeaderAcceptor, proxiedPeer, type ProxyHeaderRefusal } from '../src/relay/accept-proxy.js';
import { encodeProxyV2, type ProxyHeader } from '../src/relay/proxy-protocol.js';
import { NGINX_STREAM_MODULE, hasStreamModule, nginxUserLine, startDaemon, type Daemon } from './helpers/daemons.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

interface Seen {
  header: ProxyHeader;
  peer: string | undefined;
  /** The first bytes after the header, as the application reads them. */
  data: string;
}

/** A listener that reads the PROXY header, then answers with what it saw, as one JSON line. */
async function echoListener() {
  const refusals: ProxyHeaderRefusal[] = [];
  const accept = createProxyHeaderAcceptor({ onRefused: (refusal) => refusals.push(refusal) });
  const server = net.createServer((socket) =>
    accept(socket, (socket, header) => {
      socket.once('data', (chunk: Buffer) => {
        const seen: Seen = { header, peer: proxiedPeer(socket)?.address, data: chunk.toString('latin1') };
        socket.end(`${JSON.stringify(seen)}\n`);
      });
      socket.resume();
    }),
  );
  const port = await listenOn(server);
  return { server, port, refusals };
}

/** Connects (through a router), sends `payload`, returns the listener's JSON and our own socket's address. */
async function exchange(host: string, port: number, payload: Uint8Array | string) {
  const socket = net.connect({ host, port });
  await once(socket, 'connect');
  const local = { address: socket.localAddress!, port: socket.localPort! };
  socket.write(payload);
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  await once(socket, 'end');
  socket.destroy();
  return { seen: JSON.parse(text) as Seen, local };
}

const IPV6 = await hasIPv6Loopback();

async function hasIPv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  try {
    await listenOn(server, '::1');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

describe.runIf(hasTool('haproxy'))('HAProxy as the sender', () => {
  let listener: Awaited<ReturnType<typeof echoListener>>;
  let haproxy: Daemon;

  beforeAll(async () => {
    listener = await echoListener();
    haproxy = await startDaemon({
      name: 'haproxy',
      ports: IPV6 ? 4 : 3,
      config: (dir, [v1, v2, relay, v6]) => `global
  pidfile ${dir}/haproxy.pid
defaults
  mode tcp
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend v1
  bind 127.0.0.1:${v1}
  default_backend send_v1
frontend v2
  bind 127.0.0.1:${v2}
  default_backend send_v2
# Reads our v2 header and passes its source on in a v2 header of its own.
frontend relay
  bind 127.0.0.1:${relay} accept-proxy
  default_backend send_v2
${IPV6 ? `frontend v6\n  bind [::1]:${v6}\n  default_backend send_v2\n` : ''}backend send_v1
  server listener 127.0.0.1:${listener.port} send-proxy
backend send_v2
  server listener 127.0.0.1:${listener.port} send-proxy-v2
`,
    });
  });
  afterAll(async () => {
    await haproxy?.stop();
    if (listener) await closeServer(listener.server);
  });

  it('send-proxy (v1): the client address and port, the router as destination, the data after the header intact', async () => {
    const { seen, local } = await exchange('127.0.0.1', haproxy.ports[0]!, 'hello v1');
    expect(seen.header).toEqual({
      version: 1,
      command: 'proxy',
      source: { address: local.address, port: local.port, family: 'IPv4' },
      destination: { address: '127.0.0.1', port: haproxy.ports[0], family: 'IPv4' },
    });
    expect(seen.peer).toBe(local.address);
    expect(seen.data).toBe('hello v1');
  });

  it('send-proxy-v2: the same, in binary', async () => {
    const { seen, local } = await exchange('127.0.0.1', haproxy.ports[1]!, 'hello v2');
    expect(seen.header).toEqual({
      version: 2,
      command: 'proxy',
      source: { address: local.address, port: local.port, family: 'IPv4' },
      destination: { address: '127.0.0.1', port: haproxy.ports[1], family: 'IPv4' },
    });
    expect(seen.data).toBe('hello v2');
  });

  it.runIf(IPV6)('send-proxy-v2 from an IPv6 client', async () => {
    const { seen, local } = await exchange('::1', haproxy.ports[3]!, 'hello v6');
    expect(local.address).toBe('::1');
    expect(seen.header).toMatchObject({ version: 2, source: { address: '::1', port: local.port, family: 'IPv6' }, destination: { address: '::1', family: 'IPv6' } });
  });

  it.each([
    ['IPv4', { address: '203.0.113.9', port: 40000 }, { address: '198.51.100.1', port: 443 }],
    ['IPv6', { address: '2001:db8::7', port: 40001 }, { address: '2001:db8::1', port: 443 }],
  ])('reads our %s v2 header (accept-proxy) and passes the same client on', async (_family, source, destination) => {
    const header = encodeProxyV2(source, destination)!;
    const { seen } = await exchange('127.0.0.1', haproxy.ports[2]!, Buffer.concat([header, Buffer.from('after our header')]));
    expect(seen.header).toMatchObject({ version: 2, command: 'proxy', source: { address: source.address, port: source.port } });
    expect(seen.data).toBe('after our header');
  });

  it('a listener refuses a connection that arrives without the header, and says why', async () => {
    const before = listener.refusals.length;
    const socket = net.connect({ host: '127.0.0.1', port: listener.port });
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\n\r\n');
    await once(socket, 'close');
    expect(listener.refusals.slice(before)).toEqual([{ reason: 'not-proxy', remoteAddress: '127.0.0.1' }]);
  });
});

describe.runIf(hasTool('nginx') && hasStreamModule())("nginx's stream module as the sender", () => {
  let listener: Awaited<ReturnType<typeof echoListener>>;
  let nginx: Daemon;

  beforeAll(async () => {
    listener = await echoListener();
    nginx = await startDaemon({
      name: 'nginx',
      ports: 2,
      config: (dir, [plain, relay]) => `load_module ${NGINX_STREAM_MODULE};
${nginxUserLine()}worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
stream {
  server {
    listen 127.0.0.1:${plain};
    proxy_pass 127.0.0.1:${listener.port};
    proxy_protocol on;
  }
  # Reads our v2 header; realip makes its source the connection's, which proxy_protocol then sends on.
  server {
    listen 127.0.0.1:${relay} proxy_protocol;
    set_real_ip_from 127.0.0.1;
    proxy_pass 127.0.0.1:${listener.port};
    proxy_protocol on;
  }
}
`,
    });
  });
  afterAll(async () => {
    await nginx?.stop();
    if (listener) await closeServer(listener.server);
  });

  it('proxy_protocol on sends v1 with the client address and port', async () => {
    const { seen, local } = await exchange('127.0.0.1', nginx.ports[0]!, 'hello from nginx');
    expect(seen.header).toEqual({
      version: 1,
      command: 'proxy',
      source: { address: local.address, port: local.port, family: 'IPv4' },
      destination: { address: '127.0.0.1', port: nginx.ports[0], family: 'IPv4' },
    });
    expect(seen.data).toBe('hello from nginx');
  });

  it.each([
    ['IPv4', { address: '203.0.113.9', port: 40000 }, { address: '198.51.100.1', port: 443 }],
    ['IPv6', { address: '2001:db8::7', port: 40001 }, { address: '2001:db8::1', port: 443 }],
  ])('reads our %s v2 header (listen … proxy_protocol) and passes the same client on', async (_family, source, destination) => {
    const { seen } = await exchange('127.0.0.1', nginx.ports[1]!, Buffer.concat([encodeProxyV2(source, destination)!, Buffer.from('after our header')]));
    expect(seen.header).toMatchObject({ version: 1, command: 'proxy', source: { address: source.address, port: source.port } });
    expect(seen.data).toBe('after our header');
  });
});
