import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthBody } from '../src/client/api-schemas.js';
import { NexoraClient } from '../src/client/nexora-client.js';
import { serverFiles } from '../src/client/server-files.js';
import { createDockerClient } from '../src/workstation/docker/docker-client.js';
import { eventually } from './fixtures/eventually.js';
import { runCli } from './fixtures/run-cli.js';
import { testImage, WORKSPACE_GID, WORKSPACE_UID } from './fixtures/session-env.js';

// The server's memory as a person sees it (`nexora server status`), and an idle session's
// tool channels let go of their buffers.

const runId = `mem-${randomBytes(3).toString('hex')}`;
const docker = createDockerClient();
const labelFilter = { label: [`dev.nexora.testrun=${runId}`] };
let root: string;
let workspace: string;
let env: NodeJS.ProcessEnv;
let client: NexoraClient;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), `nexora-${runId}-`));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
  const block = 36_000 + 20 * Math.floor(Math.random() * 100);
  env = {
    NEXORA_HOME: join(root, 'home'),
    DATABASE_URL: '',
    NEXORA_WORKSTATION_IMAGE: await testImage(docker),
    NEXORA_VNC_PORTS: `${block}-${block + 9}`,
    NEXORA_CDP_PORTS: `${block + 10_000}-${block + 10_009}`,
    NEXORA_NETWORK_NAME: `nexora-net-${runId}`,
    NEXORA_CONTAINER_PREFIX: `nexora-${runId}`,
    NEXORA_CONTAINER_LABELS: `dev.nexora.test=1,dev.nexora.testrun=${runId}`,
    NEXORA_START_TIMEOUT: '300',
    // Released after 2 s unused (the sweep looks every 5 s), so the test sees it.
    NEXORA_CHANNEL_IDLE_SECONDS: '2',
  };
  client = new NexoraClient({ socketPath: serverFiles({ home: join(root, 'home'), logs: join(root, 'home', 'logs') }).socket });
});

afterAll(async () => {
  await runCli(['server', 'stop', '--stop-sessions'], { env, timeoutMs: 120_000 }).catch(() => undefined);
  client.close();
  for (const container of await docker.listContainers({ all: true, filters: labelFilter })) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.getNetwork(`nexora-net-${runId}`).remove().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

const health = (): Promise<HealthBody> => client.get<HealthBody>('/v1/health', { timeoutMs: 30_000 });
const statusLine = async (): Promise<string> => {
  const status = await runCli(['server', 'status'], { env });
  expect(status.code, status.stderr).toBe(0);
  return /^memory\s+(.*)$/m.exec(status.stdout)?.[1] ?? `no memory line in: ${status.stdout}`;
};

describe("the server's memory", () => {
  it("`server status` shows the server's RSS and each session's share; an idle session's channels are closed and reopen on use", async () => {
    const started = await runCli(['session', 'start', '--workspace', workspace, '--json', '--no-pool'], { env, timeoutMs: 400_000 });
    expect(started.code, started.stderr).toBe(0);
    const id = (JSON.parse(started.stdout.trim().split('\n').pop() ?? '{}') as { session: string }).session;

    const before = await health();
    // The figure is the process's own VmRSS, as `top` shows it.
    const vmRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${before.pid}/status`, 'utf8'))?.[1]) * 1024;
    expect(Math.abs((before.memory?.rssBytes ?? 0) - vmRss)).toBeLessThan(16 * 1048576);
    expect(before.memory).toMatchObject({ activeSessions: 1, channels: { sessions: 0, framebufferBytes: 0 } });
    expect(await statusLine()).toMatch(/^\d+\.\d MiB RSS \(\d+\.\d MiB at start\), \d+\.\d MiB per active session \(1\)$/);

    // A tool call opens the channels: the framebuffer mirror is the display's size.
    const screen = await client.raw('GET', `/v1/sessions/${id}/screen`, undefined, { timeoutMs: 120_000, headers: { accept: 'image/png' } });
    expect(screen.status, screen.bytes.toString("utf8").slice(0, 500)).toBe(200);
    const open = await health();
    expect(open.memory?.channels.sessions).toBe(1);
    expect(open.memory?.channels.framebufferBytes).toBeGreaterThanOrEqual(640 * 480 * 4);
    expect(await statusLine()).toMatch(/tool channels open for 1 \(framebuffers \d+\.\d MiB\)$/);

    // Unused for the idle time: closed, and the log says so.
    await eventually(health, (body) => body.memory?.channels.sessions === 0, 'the idle channels closed', 60_000);
    expect(readFileSync(join(root, 'home', 'logs', 'server.log'), 'utf8')).toContain(`closed the idle tool channels of ${id}`);
    expect(await statusLine()).not.toContain('tool channels');

    // The next call opens them again.
    const again = await client.get<{ text: string }>(`/v1/sessions/${id}/terminal`, { timeoutMs: 120_000 });
    expect(typeof again.text).toBe('string');
    expect((await health()).memory?.channels.sessions).toBe(1);
  }, 600_000);

  it('refuses a bad NEXORA_CHANNEL_IDLE_SECONDS with its name', async () => {
    const home = join(root, 'bad-home');
    const result = await runCli(['serve'], { env: { ...env, NEXORA_HOME: home, NEXORA_CHANNEL_IDLE_SECONDS: 'soon' }, timeoutMs: 120_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr + readFileSync(join(home, 'logs', 'server.log'), 'utf8')).toContain('NEXORA_CHANNEL_IDLE_SECONDS is "soon"');
  }, 180_000);
});
