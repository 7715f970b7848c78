/// <reference lib="dom" />
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedSessionManager } from '../src/sessions/open-session-manager.js';
import { newSessionId, type SessionId } from '../src/store/index.js';
import { connectTools, type ConnectedTools } from '../src/tools/connect-tools.js';
import type { VisualTools } from '../src/tools/types.js';
import { InputGate } from '../src/live/input-gate.js';
import { ScreenshotArchive } from '../src/viewer/screenshot-archive.js';
import { sessionViewerBackend } from '../src/viewer/session-backend.js';
import { startViewerServer, type ViewerServer } from '../src/viewer/viewer-server.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

/**
 * The web view in Debian's Chromium (driven by playwright-core) against a real session: the
 * token guard, the live noVNC canvas, take-over, the live transcript, and the VNC password
 * kept out of everything the browser receives or sends.
 */
const chromiumPath = process.env.NEXORA_CHROMIUM ?? '/usr/bin/chromium';

let world: SessionEnv;
let opened: OpenedSessionManager;
let sessionId: SessionId;
let connected: ConnectedTools;
let agentTools: VisualTools;
let gate: InputGate;
let server: ViewerServer;
let browser: Browser;
let password: string;
let screenshotsRoot: string;
/** Everything the browser received or sent: response bodies and WebSocket frames. */
const traffic: Buffer[] = [];

beforeAll(async () => {
  world = await createSessionEnv('vw', { vncRange: [46400, 46419], cdpRange: [47400, 47419] });
  opened = await world.open();
  const started = await opened.manager.start({ workspaceDir: world.workspace(), usePool: false });
  sessionId = started.session.id;
  password = await opened.manager.vncPassword(sessionId);
  connected = await connectTools(started.workstation);
  gate = new InputGate();
  screenshotsRoot = join(world.home, 'screenshots');
  // Fastened as the server's live session does: every caller of these tools waits at the gate.
  connected.tools.holdInputAt((call) => gate.enter({ ...call, timeoutMs: 60_000 }));
  agentTools = connected.tools;
  server = await startViewerServer({ backend: sessionViewerBackend(opened.manager, { screenshotsRoot }), gateFor: () => gate, pollMs: 200 });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close().catch(() => undefined);
  connected?.close();
  await world?.dispose();
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('response', (response) => {
    response.body().then((body) => traffic.push(body), () => undefined);
  });
  page.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => traffic.push(Buffer.from(frame.payload)));
    socket.on('framesent', (frame) => traffic.push(Buffer.from(frame.payload)));
  });
  await page.goto(server.sessionUrl(sessionId));
  await page.waitForSelector('#status[data-state="connected"]', { timeout: 20_000 });
  return page;
}

/** Pixels of the noVNC canvas that are not black, and a hash of all of them. */
async function canvasStats(page: Page): Promise<{ lit: number; hash: number; width: number }> {
  return page.evaluate(() => {
    const canvas = document.querySelector('#screen canvas') as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    if (!context) return { lit: 0, hash: 0, width: 0 };
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    let hash = 0;
    for (let index = 0; index < data.length; index += 4) {
      const value = (data[index] ?? 0) + (data[index + 1] ?? 0) * 3 + (data[index + 2] ?? 0) * 7;
      if (value > 30) lit++;
      hash = (hash * 31 + value + index) | 0;
    }
    return { lit, hash, width: canvas.width };
  });
}

/** fetch() may not set Host, so this asks over node:http. */
function statusWithHost(path: string, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: server.port, path, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function terminalText(): Promise<string> {
  return (await connected.tools.screen({ image: false })).text;
}

async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('web view', () => {
  it('refuses requests without the token or with a wrong one, and serves the page with it', async () => {
    const origin = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${origin}/`)).status).toBe(403);
    expect((await fetch(`${origin}/index.html`)).status).toBe(403);
    expect((await fetch(`${origin}/t/${'x'.repeat(server.token.length)}/`)).status).toBe(403);
    expect((await fetch(`${origin}/t/${'x'.repeat(server.token.length)}/api/sessions`)).status).toBe(403);
    expect((await fetch(`${origin}/t/${server.token}/api/sessions`)).status).toBe(200);
    // A page served under another host name (DNS rebinding) is refused too.
    expect(await statusWithHost(`/t/${server.token}/`, 'evil.example')).toBe(403);
    expect(await statusWithHost(`/t/${server.token}/`, `localhost:${server.port}`)).toBe(200);

    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) consoleLines.push(`${response.status()} ${response.url().replace(server.token, '<token>')}`);
    });
    page.on('requestfailed', (request) => consoleLines.push(`failed ${request.url().replace(server.token, '<token>')}: ${request.failure()?.errorText ?? ''}`));
    try {
      const refused = await page.goto(`${origin}/`);
      expect(refused?.status()).toBe(403);
      const wrong = await page.goto(`${origin}/t/wrong-token/`);
      expect(wrong?.status()).toBe(403);
      // A WebSocket to the display without the token is refused at the upgrade.
      const socketOutcome = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(url, ['binary']);
            socket.onopen = () => resolve('open');
            socket.onerror = () => resolve('refused');
          }),
        `ws://127.0.0.1:${server.port}/t/wrong-token/ws/${sessionId}`,
      );
      expect(socketOutcome).toBe('refused');
      const ok = await page.goto(server.url);
      expect(ok?.status()).toBe(200);
      expect(await page.title()).toContain('Nexora');
      await page
        .waitForSelector(`#sessions option[value="${sessionId}"]`, { state: 'attached', timeout: 45_000 })
        .catch(async (error: unknown) => {
          const status = await page.textContent('#status').catch(() => '?');
          throw new Error(`the session list never showed ${sessionId}; status "${status}"; console: ${consoleLines.join(' | ')}`, { cause: error });
        });
    } finally {
      await page.close();
    }
  });

  it('shows the live display: non-blank pixels that change when the terminal changes', async () => {
    const page = await openPage();
    try {
      const first = await waitFor(async () => {
        const stats = await canvasStats(page);
        return stats.width > 0 && stats.lit > 1000 ? stats : undefined;
      }, 'a drawn canvas');
      expect(first.width).toBe(1280);
      await agentTools.keyboard({ text: 'echo canvas-change-marker\n' });
      const changed = await waitFor(async () => {
        const stats = await canvasStats(page);
        return stats.hash !== first.hash ? stats : undefined;
      }, 'the canvas to change after typing');
      expect(changed.lit).toBeGreaterThan(1000);
      console.log(`canvas: ${first.lit} lit pixels before, ${changed.lit} after typing`);
    } finally {
      await page.close();
    }
  });

  it('is view-only by default, and Take control holds the agent while the person types; Hand back resumes it', async () => {
    const page = await openPage();
    try {
      // View-only: keys typed into the page never reach the workstation, even from a client
      // that ignores view-only (the server drops input messages until the person takes control).
      await page.evaluate(() => {
        (window.nexoraViewer as { rfb: { viewOnly: boolean } }).rfb.viewOnly = false;
      });
      await page.click('#screen canvas');
      await page.keyboard.type('echo viewonly-leak');
      await page.keyboard.press('Enter');

      await page.click('#control');
      await page.waitForSelector('#control[data-holder="person"]');
      expect(gate.holder).toBe('person');

      let agentDone = false;
      const agentTyping = agentTools.keyboard({ text: 'echo agent-after-handback\n' }).then((result) => {
        agentDone = true;
        return result;
      });
      await page.click('#screen canvas');
      await page.keyboard.type('echo person-typed-this');
      await page.keyboard.press('Enter');
      await waitFor(async () => (await terminalText()).includes('person-typed-this'), "the person's typing on the terminal");
      // The view-only keys went over the same connection before these: had the server let them
      // through, they would be on the terminal ahead of the person's line.
      expect(await terminalText()).not.toContain('viewonly-leak');
      // The agent's call is parked at the gate, not merely slow.
      expect(gate.waiting).toBe(1);
      expect(agentDone).toBe(false);
      expect(await terminalText()).not.toContain('agent-after-handback');

      await page.click('#control');
      await page.waitForSelector('#control[data-holder="agent"]');
      const result = await agentTyping;
      expect(result.keystrokes).toBeGreaterThan(0);
      await waitFor(async () => (await terminalText()).includes('agent-after-handback'), "the agent's typing after hand-back");

      // The person's input is in the transcript as a count, never the text (it may be a
      // password; keeping it is the opt-in viewer.recordTypedText), and the page shows it live.
      const events = await opened.manager.events.list(sessionId, { kinds: ['control-take', 'human-input', 'control-return'] });
      expect(events.map((event) => event.kind)).toEqual(['control-take', 'human-input', 'control-return']);
      // "echo person-typed-this" and Enter: 23 keys.
      expect(events[1]?.payload).toMatchObject({ keys: 23 });
      expect(events[1]?.payload).not.toHaveProperty('text');
      const everything = await opened.manager.events.list(sessionId, { limit: 100_000 });
      expect(JSON.stringify(everything)).not.toContain('person-typed');
      await page.waitForSelector('#transcript li[data-kind="human-input"]');
      expect(await page.textContent('#transcript li[data-kind="human-input"]')).toContain('typed 23 keys');

      // A new event recorded elsewhere appears in the open page, screenshots included.
      await opened.manager.events.record({ sessionId, kind: 'step-start', payload: { step: 99, model: 'test/live-marker' } });
      await page.waitForSelector('#transcript li[data-kind="step-start"]:has-text("live-marker")', { timeout: 5000 });
      const archive = new ScreenshotArchive({
        root: screenshotsRoot,
        sessionId,
        onSaved: async (saved) => {
          await opened.manager.events.record({ sessionId, kind: 'screen-capture', payload: { file: saved.file, width: saved.width, height: saved.height } });
        },
      });
      const screen = await connected.tools.screen({ image: true });
      await archive.save(screen.png ?? Buffer.alloc(0), { width: screen.width, height: screen.height });
      const width = await waitFor(
        () => page.evaluate(() => document.querySelector<HTMLImageElement>('#transcript li[data-kind="screen-capture"] img')?.naturalWidth ?? 0),
        'the screenshot in the transcript',
      );
      expect(width).toBe(1280);
    } finally {
      await page.close();
    }
  });

  it('lists the sessions and switches between them, transcript and display', async () => {
    const otherId = newSessionId();
    await opened.manager.sessions.create({ id: otherId, userId: 'local', model: 'test/other', provider: 'test', workspaceDir: '/tmp/other' });
    await opened.manager.events.record({ sessionId: otherId, kind: 'run-start', payload: { task: 'the other task' } });
    const page = await openPage();
    try {
      await page.waitForSelector(`#sessions option[value="${otherId}"]`, { state: 'attached' });
      await page.selectOption('#sessions', otherId);
      await page.waitForSelector('#transcript li[data-kind="run-start"]:has-text("the other task")');
      // Its workstation never started: the display says so instead of showing the first session's.
      await page.waitForSelector('#status[data-state="disconnected"]');
      expect(await page.textContent('#status')).toContain(otherId);
      await page.selectOption('#sessions', sessionId);
      await page.waitForSelector('#status[data-state="connected"]');
      expect(await page.$('#transcript li:has-text("the other task")')).toBeNull();
      expect(await page.$('#transcript li[data-kind="human-input"]')).not.toBeNull();
    } finally {
      await page.close();
    }
  });

  it('never lets the VNC password reach the page, its scripts or its network traffic', async () => {
    const page = await openPage();
    try {
      // Frames have come over the WebSocket (the display drew) before the traffic is searched.
      await waitFor(() => Promise.resolve(traffic.length > 10), 'the display to draw');
      const html = await page.content();
      const scripts = await page.evaluate(() => {
        // The page's own objects (the RFB client and its display among them) are cyclic: each object once.
        const seen = new WeakSet<object>();
        const once = (_key: string, value: unknown): unknown => {
          if (typeof value !== 'object' || value === null) return value;
          if (seen.has(value)) return undefined;
          seen.add(value);
          return value;
        };
        return JSON.stringify(window.nexoraViewer ?? {}, once) + document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage);
      });
      expect(password.length).toBeGreaterThanOrEqual(6);
      expect(html).not.toContain(password);
      expect(scripts).not.toContain(password);
      expect(traffic.length).toBeGreaterThan(10);
      const leaks = traffic.filter((chunk) => chunk.includes(Buffer.from(password, 'latin1')) || chunk.includes(Buffer.from(password, 'utf16le')));
      expect(leaks).toEqual([]);
      console.log(`checked ${traffic.length} responses and WebSocket frames (${traffic.reduce((sum, chunk) => sum + chunk.length, 0)} bytes) for the password`);
    } finally {
      await page.close();
    }
  });
});

declare global {
  interface Window {
    nexoraViewer?: unknown;
  }
}
