import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthIncident } from '../src/sessions/health-monitor.js';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { PortAllocator, type Db, type SessionId } from '../src/store/index.js';
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

/**
 * Kills the engine (dockerd and the containerd it runs) with SIGKILL, starts dockerd again the
 * way scripts/lib.sh does, waits for the API, and returns this run's container states as the
 * engine reports them right away, before anyone reacts.
 */
async function restartEngine(): Promise<string[]> {
  const pid = dockerdPid();
  if (!pid) throw new Error('dockerd is not running as a local process: this test restarts a local engine only');
  let containerd: number[] = [];
  try {
    containerd = execFileSync('pgrep', ['-P', String(pid), '-x', 'containerd'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    // An external containerd (systemd-managed) is left alone.
  }
  process.kill(pid, 'SIGKILL');
  for (const child of containerd) process.kill(child, 'SIGKILL');
  await waitUntil(() => dockerdPid() === undefined, 30_000, 'dockerd to exit');
  const child = spawn('sh', ['-c', 'nohup setsid dockerd >>/var/log/nexora-dockerd.log 2>&1 </dev/null &'], { stdio: 'ignore', detached: true });
  child.unref();
  await waitUntil(async () => {
    await world.docker.ping();
    return true;
  }, 120_000, 'the Docker engine to answer again');
  return (await world.containers()).map((container) => `${container.Names[0] ?? container.Id}: ${container.State} (${container.Status})`);
}

describe('Docker engine restart', () => {
  it('running sessions are recovered (or adopted when they survived); the store matches the engine afterwards', async () => {
    const restarted = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    const [pooled] = await manager.pool.fill({ workspaceDir: world.workspace('pool'), size: 1, idleTimeoutMs: 600_000 });
    const incidents: HealthIncident[] = [];
    const monitor = new HealthMonitor(manager, { policy: 'restart', sweepIntervalMs: 1000, onIncident: (incident) => incidents.push(incident) });
    monitor.start();
    try {
      const states = await restartEngine();
      const id = restarted.session.id;
      // The active session comes back: the same container runs with the same ports, the desktop answers.
      await waitUntil(async () => (await manager.getContainer(id))?.ready === true, 120_000, 'the session to be recovered');
      expect((await manager.sessions.get(id)).status).toBe('active');
      const info = await manager.getContainer(id);
      expect(info?.id).toBe(restarted.info.id);
      expect([info?.vncPort, info?.cdpPort]).toEqual([restarted.info.vncPort, restarted.info.cdpPort]);
      await waitForRfbGreeting({ host: '127.0.0.1', port: restarted.info.vncPort, timeoutMs: 30_000 });
      const workstation = await manager.workstation(id);
      // The container runs (and Xvnc greets) before its start script has tmux up again.
      const tmuxUp = async (): Promise<boolean> => (await workstation.exec({ cmd: 'tmux has-session -t main && echo ok' })).stdout === 'ok\n';
      await waitUntil(tmuxUp, 60_000, 'tmux to be back in the restarted workstation');
      expect(await tmuxUp()).toBe(true);
      const sessionDied = states.some((state) => state.includes(restarted.info.name) && !state.includes('running'));
      if (sessionDied) {
        // The restart is recorded when its step ends (after the VNC greeting), which can be a
        // moment after the container reports READY.
        const recorded = async (): Promise<boolean> => (await manager.events.list(id)).some((event) => event.kind === 'workstation-restart');
        await waitUntil(recorded, 60_000, 'the restart to be recorded as an event');
        expect(await recorded()).toBe(true);
      }

      // The store and the engine agree, whatever the engine did to the paused pool member:
      // every container of this run belongs to a live session, every live session has its
      // container, and exactly the live sessions hold ports.
      await monitor.sweep();
      await waitUntil(async () => {
        const report = await manager.reconcile();
        return report.removedContainers.length === 0 && report.crashedSessions.length === 0;
      }, 60_000, 'reconciliation to find nothing left to fix');
      const live = await manager.sessions.list({ statuses: ['starting', 'active', 'stopping'] });
      const containers = await world.containers();
      for (const container of containers) {
        const owner = live.find((session) => session.id === container.Labels['dev.nexora.session']);
        expect(owner, container.Names[0]).toBeDefined();
        expect(['running', 'paused']).toContain(container.State);
      }
      for (const session of live) expect(containers.some((container) => container.Labels['dev.nexora.session'] === session.id)).toBe(true);
      expect((await new PortAllocator().holders(db)).map((holder) => holder.sessionId).sort()).toEqual(live.map((session) => session.id as string).sort());
      const pool = await manager.sessions.get(pooled as SessionId);
      console.log(`engine restart: states right after ${JSON.stringify(states)}; pool member ${pool.status}; incidents ${JSON.stringify(incidents)}`);
    } finally {
      await monitor.stop();
      await manager.stopContainer(restarted.session.id).catch(() => undefined);
      await manager.stopContainer(pooled as SessionId).catch(() => undefined);
    }
    expect(await world.containers()).toHaveLength(0);
    expect(await new PortAllocator().holders(db)).toEqual([]);
  });
});
