import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../store/index.js';
import { startViewerServer, type ViewerBackend, type ViewerServer } from './viewer-server.js';

/** A backend with one session and no workstation: enough for the request paths tested here. */
const backend: ViewerBackend = {
  listSessions: () => Promise.resolve([{ id: 's1', status: 'active', model: 'm', workspaceDir: null, createdAt: new Date(0).toISOString() }]),
  rfbEndpoint: () => Promise.reject(new Error('no workstation in this test')),
  listEvents: () => Promise.resolve([] as EventRecord[]),
  recordEvent: () => Promise.resolve(),
};

let server: ViewerServer;

beforeAll(async () => {
  server = await startViewerServer({ backend });
});

afterAll(async () => {
  await server?.close();
});

/** Sends one raw HTTP request (no client-side URL clean-up) and returns the status line. */
function rawRequest(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\r\n')) {
        socket.destroy();
        resolve(received.split('\r\n')[0] ?? '');
      }
    });
    socket.on('error', reject);
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(received)}`));
    });
  });
}

describe('viewer server request handling', () => {
  const host = (): string => `Host: 127.0.0.1:${server.port}`;

  it('answers 400 to a malformed %-escape in a WebSocket path, and keeps serving', async () => {
    for (const bad of ['%zz', '%E0%A4%A', '%', 'ws/%ff%fe']) {
      const status = await rawRequest([
        `GET /t/${server.token}/${bad} HTTP/1.1`,
        host(),
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ]);
      expect(status).toBe('HTTP/1.1 400 Bad Request');
    }
    // The process survived: the page still answers.
    expect((await fetch(`${server.url}api/sessions`)).status).toBe(200);
  });

  it('answers 400 to a malformed %-escape in a plain request', async () => {
    expect(await rawRequest([`GET /t/${server.token}/api/sessions/%zz/events HTTP/1.1`, host(), 'Connection: close'])).toBe('HTTP/1.1 400 Bad Request');
    // Without the token the answer stays 403, whatever the rest of the path.
    expect(await rawRequest([`GET /t/wrong/%zz HTTP/1.1`, host(), 'Connection: close'])).toBe('HTTP/1.1 403 Forbidden');
  });

  it('sends a Content-Security-Policy that allows only its own origin, and forbids framing', async () => {
    for (const path of ['', 'app.js', 'api/sessions', 'nothing-here']) {
      const response = await fetch(`${server.url}${path}`);
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe-inline');
      expect(policy).not.toContain('unsafe-eval');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    const refused = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
