import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CdpProxy } from '../src/tools/browser/cdp-proxy.js';

// The proxy against a real Chromium on this host: the stream opener is a plain TCP connection
// here (in a workstation it is `docker exec socat`), the HTTP, WebSocket and token handling
// are the real thing.
let browserProcess: ChildProcess;
let profile: string;
let devtoolsPort: number;
let proxy: CdpProxy;

beforeAll(async () => {
  profile = mkdtempSync(join(tmpdir(), 'nexora-proxy-'));
  browserProcess = spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  devtoolsPort = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${text}`)), 30_000);
    browserProcess.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  proxy = await CdpProxy.start({
    openStream: () =>
      new Promise((resolve, reject) => {
        const socket = connect(devtoolsPort, '127.0.0.1', () => resolve({ stdin: socket, stdout: socket, stderr: new PassThrough(), close: () => socket.destroy() }));
        socket.once('error', reject);
      }),
  });
}, 60_000);

afterAll(async () => {
  proxy?.close();
  if (browserProcess && browserProcess.exitCode === null) {
    const exited = new Promise((resolve) => browserProcess.once('exit', resolve));
    browserProcess.kill('SIGKILL');
    await exited;
  }
  // Chromium's helper processes outlive the main one for a moment and still write to the profile.
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(profile, { recursive: true, force: true });
      break;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
});

describe('CdpProxy', () => {
  it('answers nothing without the token, or with a wrong one', async () => {
    const base = `http://127.0.0.1:${proxy.port}`;
    for (const path of ['/json/version', '/json/list', `/${'x'.repeat(proxy.token.length)}/json/version`, `/${proxy.token.slice(1)}/json/version`]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('webSocketDebuggerUrl');
    }
  });

  it('refuses a WebSocket to a DevTools target without the token', async () => {
    const version = (await (await fetch(`${proxy.httpUrl}/json/version`)).json()) as { webSocketDebuggerUrl: string };
    const path = new URL(version.webSocketDebuggerUrl).pathname.replace(`/${proxy.token}`, '');
    const status = await new Promise<number | string>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}${path}`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => resolve('open'));
      socket.on('error', (error) => resolve(error.message));
    });
    expect(status).toBe(401);
  });

  it('with the token: /json/version names URLs that carry it, and Playwright connects through it', async () => {
    const version = (await (await fetch(`${proxy.httpUrl}/json/version`)).json()) as { Browser: string; webSocketDebuggerUrl: string };
    expect(version.Browser).toMatch(/Chrom/);
    expect(version.webSocketDebuggerUrl.startsWith(`ws://127.0.0.1:${proxy.port}/${proxy.token}/devtools/browser/`)).toBe(true);
    const browser = await chromium.connectOverCDP(version.webSocketDebuggerUrl, { timeout: 15_000 });
    try {
      const page = await browser.contexts()[0]!.newPage();
      await page.setContent('<h1>through the proxy</h1>');
      expect(await page.textContent('h1')).toBe('through the proxy');
    } finally {
      await browser.close();
    }
  });
});
