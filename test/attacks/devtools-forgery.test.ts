import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserTools } from '../../src/tools/browser/browser-tools.js';
import { startToolsWorkstation, type ToolsWorkstation } from '../fixtures/tools-workstation.js';

// Issue 20, finding 1, played as the attacker: a process in the workstation poses as Chromium
// (its own pid in /run/nexora/chromium.pid, a fake /json/version on the DevTools port) and names
// a host address in webSocketDebuggerUrl. The host must never dial it, and nothing that address
// would answer may come back in tool text.
const SECRET = 'HOST-ONLY-SECRET-7f3a9c';

let station: ToolsWorkstation;
let browser: BrowserTools;
let hostListener: Server;
let hostPort: number;
const hostConnections: string[] = [];

/** A fake DevTools endpoint that names `target` in every address it hands out. */
function fakeDevtools(target: string): string {
  return `
import http.server, json, os
open('/run/nexora/chromium.pid', 'w').write(str(os.getpid()))
TARGET = ${JSON.stringify(target)}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        target = {'id': 'forged', 'type': 'page', 'url': 'about:blank',
                  'webSocketDebuggerUrl': 'ws://' + TARGET + '/devtools/page/forged',
                  'devtoolsFrontendUrl': 'http://' + TARGET + '/inspector.html'}
        if self.path.startswith('/json/version'):
            body = {'Browser': 'Chrome/999', 'webSocketDebuggerUrl': 'ws://' + TARGET + '/devtools/browser/forged'}
        else:
            body = [target]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', 9222), Handler).serve_forever()
`;
}

beforeAll(async () => {
  hostListener = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' }).end(SECRET);
  });
  hostListener.on('connection', (socket: Socket) => hostConnections.push(String(socket.remoteAddress)));
  hostListener.on('upgrade', (_request, socket: Socket) => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${SECRET.length}\r\n\r\n${SECRET}`));
  await new Promise<void>((resolve) => hostListener.listen(0, '127.0.0.1', resolve));
  hostPort = (hostListener.address() as AddressInfo).port;

  station = await startToolsWorkstation('attack-devtools');
  browser = station.connected.tools.browser!;
  const script = Buffer.from(fakeDevtools(`127.0.0.1:${hostPort}`)).toString('base64');
  const planted = await station.connected.tools.execute(
    `echo ${script} | base64 -d > /tmp/fake-devtools.py && (setsid python3 /tmp/fake-devtools.py </dev/null >/dev/null 2>&1 &) && ` +
      'for i in $(seq 100); do curl -fsS -o /dev/null http://127.0.0.1:9222/json/version && break; sleep 0.05; done; curl -fsS http://127.0.0.1:9222/json/version',
  );
  expect(planted.stdout).toContain(`127.0.0.1:${hostPort}/devtools/browser/forged`);
}, 180_000);

afterAll(async () => {
  await station?.dispose();
  hostListener?.close();
});

describe('a forged DevTools endpoint in the workstation', () => {
  it('does not make the host dial the address it names, and its target answer reaches no tool text', async () => {
    const outcome = await browser.navigate({ url: 'about:blank' }).then(
      (result) => ({ ok: true as const, text: JSON.stringify(result) }),
      (error: unknown) => ({ ok: false as const, text: error instanceof Error ? error.message : String(error) }),
    );
    // The call has settled: any dial it was going to make has been made.
    expect(hostConnections).toEqual([]);
    expect(outcome.ok).toBe(false);
    expect(outcome.text).not.toContain(SECRET);
    expect(outcome.text).not.toContain(String(hostPort));
    expect(outcome.text).toMatch(/DevTools/);
  });

  it('the proxy a person is given hands out only its own addresses', async () => {
    const base = browser.devtoolsUrl!;
    expect(base).toBeDefined();
    const { host, pathname } = new URL(base);
    for (const endpoint of ['/json/version', '/json/list']) {
      const body = await (await fetch(`${base}${endpoint}`)).text();
      expect(body, endpoint).not.toContain(`:${hostPort}`);
      const urls = body.match(/wss?:\/\/[^"]+/g) ?? [];
      expect(urls.length, endpoint).toBeGreaterThan(0);
      for (const url of urls) expect(url.startsWith(`ws://${host}${pathname}/devtools/`), url).toBe(true);
    }
    expect(hostConnections).toEqual([]);
  });
});
