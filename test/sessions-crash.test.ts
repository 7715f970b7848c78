import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortAllocator } from '../src/store/index.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';
import { spawnSessionChild } from './fixtures/session-child-process.js';

// A nexora process killed with SIGKILL gets no chance to clean up: the next run must
// reconcile, leaving no orphan container and no held port.

let world: SessionEnv;

beforeAll(async () => {
  world = await createSessionEnv('crash');
});

afterAll(async () => {
  await world?.dispose();
});

async function nextRun() {
  // The child's embedded-database lock dies with it, so the next process can open the store.
  const opened = await world.open();
  const report = await opened.manager.reconcile();
  return { ...opened, report };
}

describe('SIGKILL of the managing process', () => {
  it('mid-start (container created, desktop booting): the next run removes it and releases the ports', async () => {
    const child = spawnSessionChild(world, world.workspace());
    await child.waitFor('STEP waiting for the desktop');
    await child.kill();
    expect((await world.containers()).length).toBe(1);
    const { manager, db, report, close } = await nextRun();
    try {
      expect(report.removedContainers).toHaveLength(1);
      expect(report.crashedSessions).toHaveLength(1);
      expect(await world.containers()).toHaveLength(0);
      expect(await new PortAllocator().holders(db)).toEqual([]);
      const session = await manager.sessions.get(report.crashedSessions[0] as never);
      expect(session.status).toBe('crashed');
      expect(session.statusReason).toMatch(/start interrupted/);
    } finally {
      await close();
    }
  });

  it('mid-create (the create request in flight): nothing is left either', async () => {
    const child = spawnSessionChild(world, world.workspace());
    await child.waitFor('STEP creating the workstation container');
    await child.kill();
    const { db, report, close } = await nextRun();
    try {
      expect(report.crashedSessions).toHaveLength(1);
      expect(await world.containers()).toHaveLength(0);
      expect(await new PortAllocator().holders(db)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('mid-session: the running container is adopted back into its session and resumable; stopping it leaves nothing', async () => {
    const child = spawnSessionChild(world, world.workspace());
    const ready = await child.waitFor('READY ');
    const sessionId = ready.slice('READY '.length).trim();
    await child.kill();
    const { manager, db, report, close } = await nextRun();
    try {
      expect(report.adoptedSessions).toContain(sessionId);
      expect(report.removedContainers).toEqual([]);
      const resumed = await manager.resume(sessionId as never);
      expect((await resumed.workstation.exec({ cmd: 'tmux has-session -t main && echo alive' })).stdout).toBe('alive\n');
      await manager.stopContainer(sessionId as never);
      expect(await world.containers()).toHaveLength(0);
      expect(await new PortAllocator().holders(db)).toEqual([]);
    } finally {
      await close();
    }
  });
});
