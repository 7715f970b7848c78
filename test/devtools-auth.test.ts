import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserTools } from '../src/tools/browser/browser-tools.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { LABELS } from '../src/workstation/labels.js';
import { startToolsWorkstation, type ToolsWorkstation } from './fixtures/tools-workstation.js';

// Issue 10, item 5, played as the attacker: with Chromium running, its DevTools protocol is
// reachable neither on a published host port nor on the container's bridge address; the one
// way in is the host-side proxy, and only with the session's token.
let station: ToolsWorkstation;
let browser: BrowserTools;
let containerAddress: string;
let vncPort: number;
let cdpPort: number;

beforeAll(async () => {
  station = await startToolsWorkstation('devtools');
  browser = station.connected.tools.browser!;
  // Chromium runs (and answers inside the workstation) before anything below is tried.
  const started = await browser.navigate({ url: 'about:blank' });
  expect(started.note).toMatch(/Chromium started/);
  const inspected = await createDockerClient().getContainer(station.containerId).inspect();
  containerAddress = Object.values(inspected.NetworkSettings.Networks)[0]!.IPAddress;
  vncPort = Number(inspected.Config.Labels[LABELS.vncPort]);
  cdpPort = Number(inspected.Config.Labels[LABELS.cdpPort]);
  expect(containerAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
}, 120_000);

afterAll(async () => {
  await station?.dispose();
});

/** Whether a TCP connection to host:port is accepted (refused or silent counts as not). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('DevTools without the token', () => {
  it('is not published on the host: the container publishes VNC only, and the CDP port does not answer', async () => {
    const inspected = await createDockerClient().getContainer(station.containerId).inspect();
    expect(Object.keys(inspected.NetworkSettings.Ports ?? {})).toEqual([`${vncPort}/tcp`]);
    expect(await accepts('127.0.0.1', cdpPort)).toBe(false);
  });

  it('is not reachable on the container bridge address, on any DevTools port', async () => {
    const inside = await station.connected.tools.execute('curl -fsS http://127.0.0.1:9222/json/version');
    expect(inside.stdout).toContain('webSocketDebuggerUrl');
    for (const port of [9222, 9223, 39222, cdpPort]) expect(await accepts(containerAddress, port), `port ${port}`).toBe(false);
    // Whatever else listens on the container's interface does not speak DevTools.
    const listeners = await station.connected.tools.execute("awk 'NR > 1 && $4 == \"0A\" { print $2 }' /proc/net/tcp /proc/net/tcp6");
    const loopback = /^(0100007F|00000000000000000000000001000000):/;
    const exposed = [...new Set(listeners.stdout.split('\n').filter((entry) => entry && !loopback.test(entry)).map((entry) => parseInt(entry.split(':')[1]!, 16)))];
    expect(exposed).toContain(vncPort);
    for (const port of exposed.filter((candidate) => candidate !== vncPort)) {
      const answer = await fetch(`http://${containerAddress}:${port}/json/version`, { signal: AbortSignal.timeout(3000) }).then((response) => response.text(), (error: unknown) => String(error));
      expect(answer, `port ${port}`).not.toContain('webSocketDebuggerUrl');
    }
  });

  it('the host proxy answers 401 without the token and serves the browser with it', async () => {
    const url = browser.devtoolsUrl!;
    const { origin, pathname } = new URL(url);
    expect((await fetch(`${origin}/json/version`)).status).toBe(401);
    expect((await fetch(`${origin}/${'A'.repeat(pathname.length - 1)}/json/version`)).status).toBe(401);
    const answer = await fetch(`${url}/json/version`);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { webSocketDebuggerUrl: string }).webSocketDebuggerUrl).toContain(pathname);
  });
});
