import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthIncident } from '../src/sessions/health-monitor.js';
import type { SessionManager } from '../src/sessions/session-manager.js';
import type { Db, SessionId } from '../src/store/index.js';
import { warmPool } from '../src/sessions/warm-pool.js';
import { waitForRfbGreeting } from '../src/workstation/docker/readiness.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

// Restarts the Docker engine under running sessions. It disturbs every container on the
// machine, so it lives alone in this file and must be the last test in it: run it only when
// nobody else is using Docker (`npx vitest run test/sessions-engine-restart.test.ts`).

let world: SessionEnv;
let manager: SessionManager;
let db: Db;

beforeAll(async () => {
  world = await createSessionEnv('engine');
  ({ manager, db } = await world.open());
});

afterAll(async () => {
  await world?.dispose();
});

function dockerdPid(): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-x', 'dockerd'], { encoding: 'utf8' }).trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Stops dockerd and starts it again the way scripts/lib.sh does, then waits for the API. */
async function restartEngine(): Promise<void> {
  const pid = dockerdPid();
  if (!pid) throw new Error('dockerd is not running as a local process: this test restarts a local engine only');
  // A hard crash, as DESIGN.md measured it: dockerd with its containerd and shims.
  for (const name of ['containerd-shim', 'containerd-shim-runc-v2', 'containerd']) {
    try {
      for (const line of execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).trim().split('\n')) process.kill(Number(line), 'SIGKILL');
    } catch {
      // None of that name.
    }
  }
  process.kill(pid, 'SIGKILL');
  await waitUntil(() => dockerdPid() === undefined, 30_000, 'dockerd to exit');
  const child = spawn('sh', ['-c', 'nohup setsid dockerd >>/var/log/nexora-dockerd.log 2>&1 </dev/null &'], { stdio: 'ignore', detached: true });
  child.unref();
  await waitUntil(async () => {
    await world.docker.ping();
    return true;
  }, 120_000, 'the Docker engine to answer again');
}

describe('Docker engine restart', () => {
  it('the health monitor notices the lost workstations and recovers them; the store matches the engine afterwards', async () => {
    const restarted = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    // A paused warm-pool member too: it cannot be trusted after a crash and must go.
    const [pooled] = await warmPool(manager, { workspaceDir: world.workspace('pool'), size: 1, idleTimeoutMs: 600_000 });
    const incidents: HealthIncident[] = [];
    const monitor = new HealthMonitor(manager, { policy: 'restart', sweepIntervalMs: 1000, onIncident: (incident) => incidents.push(incident) });
    monitor.start();
    try {
      await restartEngine();
      const id = restarted.session.id;
      // Recovered: the same container runs again with the same ports, and the desktop answers.
      await waitUntil(async () => (await manager.getContainer(id))?.ready === true, 120_000, 'the session to be recovered');
      const session = await manager.sessions.get(id);
      expect(session.status).toBe('active');
      const info = await manager.getContainer(id);
      expect(info?.id).toBe(restarted.info.id);
      expect([info?.vncPort, info?.cdpPort]).toEqual([restarted.info.vncPort, restarted.info.cdpPort]);
      await waitForRfbGreeting({ host: '127.0.0.1', port: restarted.info.vncPort, timeoutMs: 30_000 });
      const workstation = await manager.workstation(id);
      expect((await workstation.exec({ cmd: 'tmux has-session -t main && echo ok' })).stdout).toBe('ok\n');
      const events = await manager.events.list(id);
      expect(events.map((event) => event.kind)).toContain('workstation-restart');
      // The store and the engine agree: one live session, one running container, its ports held.
      await waitUntil(async () => (await world.containers()).length === 1, 60_000, 'the pool member to be removed');
      expect((await manager.sessions.get(pooled as SessionId)).status).toBe('crashed');
      const containers = await world.containers();
      expect(containers.map((container) => [container.Id, container.State])).toEqual([[restarted.info.id, 'running']]);
      expect((await manager.ports.holders(db)).map((holder) => holder.sessionId)).toEqual([id]);
      console.log(`engine restart incidents: ${JSON.stringify(incidents)}`);
    } finally {
      await monitor.stop();
      await manager.stopContainer(restarted.session.id).catch(() => undefined);
    }
    expect(await world.containers()).toHaveLength(0);
    expect(await manager.ports.holders(db)).toEqual([]);
  });
});
