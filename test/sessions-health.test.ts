import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthIncident } from '../src/sessions/health-monitor.js';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { PortAllocator, type Db } from '../src/store/index.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

let world: SessionEnv;
let manager: SessionManager;
let db: Db;

beforeAll(async () => {
  world = await createSessionEnv('health');
  ({ manager, db } = await world.open());
});

afterAll(async () => {
  await world?.dispose();
});

function incidentFor(incidents: HealthIncident[], sessionId: string, action: HealthIncident['action']): Promise<HealthIncident> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const check = (): void => {
      const found = incidents.find((incident) => incident.sessionId === sessionId && incident.action === action);
      if (found) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`no ${action} incident for ${sessionId}: ${JSON.stringify(incidents)}`));
      else setTimeout(check, 50);
    };
    check();
  });
}

describe('health monitor', () => {
  it('restarts a workstation that died (policy restart): same container and ports, desktop ready again, recorded', async () => {
    const incidents: HealthIncident[] = [];
    const monitor = new HealthMonitor(manager, { policy: 'restart', sweepIntervalMs: 60_000, onIncident: (incident) => incidents.push(incident) });
    monitor.start();
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    try {
      await world.docker.getContainer(started.info.id).kill({ signal: 'SIGKILL' });
      const incident = await incidentFor(incidents, started.session.id, 'restarted');
      expect(incident.problem).toBe('died');
      const info = await manager.getContainer(started.session.id);
      expect(info).toMatchObject({ id: started.info.id, ready: true, vncPort: started.info.vncPort });
      const kinds = (await manager.events.list(started.session.id)).map((event) => event.kind);
      expect(kinds).toEqual(expect.arrayContaining(['workstation-health', 'workstation-restart']));
      const workstation = await manager.workstation(started.session.id);
      const probe = await workstation.exec({ cmd: 'tmux has-session -t main && echo ok' });
      expect(probe, JSON.stringify(probe)).toMatchObject({ stdout: 'ok\n' });
    } finally {
      await monitor.stop();
      await manager.stopContainer(started.session.id);
    }
  });

  it('marks the session crashed, removes the container and frees the ports (policy crash)', async () => {
    const incidents: HealthIncident[] = [];
    const monitor = new HealthMonitor(manager, { policy: 'crash', sweepIntervalMs: 60_000, onIncident: (incident) => incidents.push(incident) });
    monitor.start();
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    try {
      await world.docker.getContainer(started.info.id).kill({ signal: 'SIGKILL' });
      await incidentFor(incidents, started.session.id, 'crashed');
      const session = await manager.sessions.get(started.session.id);
      expect(session.status).toBe('crashed');
      expect(session.statusReason).toMatch(/died/);
      expect(await world.containers()).toHaveLength(0);
      expect(await new PortAllocator().holders(db)).toEqual([]);
    } finally {
      await monitor.stop();
    }
  });
});
