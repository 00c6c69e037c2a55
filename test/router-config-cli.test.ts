/**
 * `legacy-tls-fallback router-config nginx|haproxy`: the printed config, run by the real router
 * (Debian's nginx with libnginx-mod-stream, HAProxy) in front of a modern stub and of this package's
 * proxy in its legacy-only mode (`acceptProxyProtocol`). curl at TLS 1.0–1.3 from another loopback
 * address: 1.2 and 1.3 reach the modern server, 1.0 and 1.1 get the fallback page from the proxy,
 * which knows them by the address the router's PROXY header names, not the router's.
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../src/cli/main.js';
import { parseRouterConfigArgs, routerConfigText } from '../src/cli/router-config.js';
import { startProxy } from '../src/proxy/app.js';
import type { RunningProxy } from '../src/proxy/config.js';
import type { RouterKind } from '../src/router-config/index.js';
import { hasStreamModule, startDaemon, type Daemon } from './helpers/daemons.js';
import { recordingUpstream, type SeenRequest } from './helpers/hostile-raw.js';
import { captureLogger, proxyConfig } from './helpers/proxy.js';
import { closeServer, listenOn } from './helpers/servers.js';
import { hasTool } from './helpers/tools.js';

const VERSIONS = [
  ['TLSv1', '1.0'],
  ['TLSv1.1', '1.1'],
  ['TLSv1.2', '1.2'],
  ['TLSv1.3', '1.3'],
] as const;
// The visitor's own address: the router reaches the proxy from 127.0.0.1, so only the PROXY header can name this one.
const VISITOR = '127.0.0.2';

function io(): CliIo & { out: string; err: string } {
  const sink = { out: '', err: '' };
  return Object.assign(sink, {
    stdout: { write: (s: string) => void (sink.out += s), isTTY: false },
    stderr: { write: (s: string) => void (sink.err += s) },
    env: {},
    cwd: process.cwd(),
    onSignal: () => () => undefined,
  }) as CliIo & { out: string; err: string };
}

function curl(port: number, caFile: string, version: string, target: string): Promise<{ code: number; stdout: string }> {
  const args = ['-s', '-i', '--interface', VISITOR, '--cacert', caFile, '--resolve', `localhost:${port}:127.0.0.1`, `--tlsv${version}`, '--tls-max', version, '--ciphers', 'DEFAULT:@SECLEVEL=0', `https://localhost:${port}${target}`];
  return new Promise((resolve) => execFile('curl', args, { timeout: 15_000 }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout })));
}

describe('router-config on the command line', () => {
  it('prints the same config as the generator, and names the flag at fault', async () => {
    const argv = ['nginx', '--modern', '127.0.0.1:8443', '--legacy', '127.0.0.1:9443', '--listen', '0.0.0.0:443', '--listen', '[::]:443', '--no-proxy-protocol', '--stream-module', 'none'];
    const out = io();
    expect(await runCli(['router-config', ...argv], out)).toBe(0);
    const parsed = parseRouterConfigArgs(argv);
    expect(parsed).toMatchObject({ help: false, kind: 'nginx', options: { proxyProtocol: false, streamModule: null, listen: ['0.0.0.0:443', '[::]:443'] } });
    expect(out.out).toBe(routerConfigText(parsed as Extract<typeof parsed, { help: false }>));
    expect(out.out).not.toContain('load_module');

    const bad = io();
    expect(await runCli(['router-config', 'haproxy', '--modern', '127.0.0.1:8443', '--legacy', 'nowhere'], bad)).toBe(2);
    expect(bad.err).toContain('--legacy is "nowhere"');
    const unknown = io();
    expect(await runCli(['router-config', 'caddy', '--modern', '127.0.0.1:8443'], unknown)).toBe(2);
    expect(unknown.err).toContain('nginx or haproxy');
    const help = io();
    expect(await runCli(['router-config', '--help'], help)).toBe(0);
    expect(help.out).toContain('--accept-proxy-protocol');
  });
});

describe.runIf(hasTool('curl') && hasTool('nginx') && hasTool('haproxy') && hasStreamModule())('the printed router configs, run, with the proxy in legacy-only mode behind them', () => {
  let modern: https.Server;
  let upstream: http.Server;
  const seen: SeenRequest[] = [];
  let proxy: RunningProxy;
  let legacyPort: number;
  let modernPort: number;
  let caFile: string;
  const routers: Daemon[] = [];

  beforeAll(async () => {
    upstream = recordingUpstream(seen);
    const config = await proxyConfig(`http://127.0.0.1:${await listenOn(upstream)}`, { exclude: ['/through'] });
    caFile = config.certificates[0]!.certFile;
    const pem = readFileSync(caFile, 'utf8');
    const key = readFileSync(config.certificates[0]!.keyFile, 'utf8');
    modern = https.createServer({ cert: pem, key, minVersion: 'TLSv1.2' }, (req, res) => res.end(`modern ${(req.socket as TLSSocket).getProtocol()}`));
    modernPort = await listenOn(modern);
    proxy = await startProxy({ ...config, acceptProxyProtocol: ['127.0.0.1'] }, captureLogger());
    legacyPort = Number(new URL(proxy.urls.https).port);
  });

  afterAll(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    await proxy?.close(0);
    if (modern) await closeServer(modern);
    if (upstream) await closeServer(upstream);
  });

  async function router(kind: RouterKind): Promise<number> {
    const daemon = await startDaemon({
      name: kind,
      ports: 1,
      config: (d, [port]) => {
        // Started as root, nginx's worker runs as nobody: it must reach the hop's socket here.
        chmodSync(d, 0o755);
        const argv = [kind, '--modern', `127.0.0.1:${modernPort}`, '--legacy', `127.0.0.1:${legacyPort}`, '--listen', `127.0.0.1:${port}`, '--log', kind === 'nginx' ? path.join(d, 'router.log') : 'stdout', '--pid-file', path.join(d, `${kind}.pid`)];
        if (kind === 'nginx') argv.push('--hop-socket', path.join(d, 'modern.sock'), '--error-log', path.join(d, 'error.log'));
        return routerConfigText(parseRouterConfigArgs(argv) as Extract<ReturnType<typeof parseRouterConfigArgs>, { help: false }>);
      },
    });
    routers.push(daemon);
    return daemon.ports[0]!;
  }

  it.each(['nginx', 'haproxy'] as const)('%s: TLS 1.2/1.3 reach the modern server, TLS 1.0/1.1 get the page, known by their own address', async (kind) => {
    const port = await router(kind);
    for (const [name, flag] of VERSIONS) {
      const answer = await curl(port, caFile, flag, '/account');
      expect({ name, code: answer.code }).toEqual({ name, code: 0 });
      if (name === 'TLSv1.2' || name === 'TLSv1.3') expect(answer.stdout).toContain(`modern ${name}`);
      else expect(answer.stdout).toMatch(/^HTTP\/1\.1 302[\s\S]*location: \/legacy-browser/im);
    }
    // An excluded path is forwarded: the proxy names the visitor the router's PROXY header named.
    const through = await curl(port, caFile, '1.0', `/through/${kind}`);
    expect(through.code).toBe(0);
    expect(seen.find((r) => r.url === `/through/${kind}`)?.headers['x-forwarded-for']).toBe(VISITOR);
  });
});
