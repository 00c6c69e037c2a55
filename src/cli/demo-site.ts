import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml } from '../html.js';

export interface DemoSite {
  /** `http://127.0.0.1:<port>`: the upstream for the proxy. */
  url: string;
  close(): Promise<void>;
}

/**
 * The site behind the proxy in `legacy-tls-fallback demo`: a page that says which TLS the visitor came
 * in over (from the X-TLS-Protocol header the proxy adds), and `/api/echo` with the request headers as
 * JSON. Plain `node:http` on loopback, port 0.
 */
export async function startDemoSite(): Promise<DemoSite> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    if (url.pathname === '/api/echo') {
      send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify({ method: req.method, url: req.url, headers: req.headers }, null, 2)}\n`);
      return;
    }
    if (url.pathname !== '/') {
      send(res, 404, 'text/html; charset=utf-8', page('Not found', `<p>Nothing at <code>${escapeHtml(url.pathname)}</code>. Try <a href="/">the home page</a> or <a href="/api/echo">/api/echo</a>.</p>`));
      return;
    }
    const protocol = single(req.headers['x-tls-protocol']);
    const cipher = single(req.headers['x-tls-cipher']);
    const body = [
      `<h1>You reached the demo site over ${escapeHtml(protocol ?? 'an unknown protocol')}</h1>`,
      '<p>This page comes from the small site behind the proxy. A modern client gets here; a client on TLS 1.0 or 1.1 is sent to the fallback page instead.</p>',
      '<table>',
      `<tr><th>X-TLS-Protocol</th><td>${escapeHtml(protocol ?? '(not sent)')}</td></tr>`,
      `<tr><th>X-TLS-Cipher</th><td>${escapeHtml(cipher ?? '(not sent)')}</td></tr>`,
      `<tr><th>User-Agent</th><td>${escapeHtml(single(req.headers['user-agent']) ?? '(not sent)')}</td></tr>`,
      '</table>',
      '<p>All the request headers the site received: <a href="/api/echo">/api/echo</a>.</p>',
    ].join('\n');
    send(res, 200, 'text/html; charset=utf-8', page('Demo site', body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(body);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}th{text-align:left;padding-right:1em}code,td{font-family:monospace}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
