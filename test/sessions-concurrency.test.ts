import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { PortAllocator, type Db } from '../src/store/index.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

let world: SessionEnv;
let manager: SessionManager;
let db: Db;

beforeAll(async () => {
  world = await createSessionEnv('conc');
  ({ manager, db } = await world.open({ startTimeoutMs: 150_000 }));
});

afterAll(async () => {
  await world?.dispose();
});

describe('many sessions at once', () => {
  it('starts 20 concurrently: all ready, 40 distinct ports reserved, only VNC published and on 127.0.0.1 only; all stop with nothing left', async () => {
    const count = 20;
    const workspace = world.workspace();
    const begun = performance.now();
    const started = await Promise.all(Array.from({ length: count }, () => manager.start({ workspaceDir: workspace, usePool: false })));
    const startMs = performance.now() - begun;
    expect(started.every((session) => session.info.ready)).toBe(true);
    const ports = started.flatMap((session) => [session.info.vncPort, session.info.cdpPort]);
    expect(new Set(ports).size).toBe(2 * count);
    for (const session of started) {
      const inspect = await world.docker.getContainer(session.info.id).inspect();
      const bindings = Object.values(inspect.NetworkSettings.Ports).flatMap((list) => list ?? []);
      // Only VNC is published: DevTools stay inside (reached through the token proxy).
      expect(bindings).toHaveLength(1);
      // The start script waits as long as the host does (150 s), not its own 20 s default.
      expect(inspect.Config.Env).toContain('NEXORA_START_TIMEOUT=149');
      for (const binding of bindings) expect(binding.HostIp).toBe('127.0.0.1');
      expect(bindings.map((binding) => Number(binding.HostPort))).toEqual([session.info.vncPort]);
    }
    expect((await new PortAllocator().holders(db)).length).toBe(count);
    const stopBegun = performance.now();
    await Promise.all(started.map((session) => manager.stopContainer(session.session.id)));
    const stopMs = performance.now() - stopBegun;
    console.log(`20 concurrent: all ready in ${startMs.toFixed(0)} ms, all stopped in ${stopMs.toFixed(0)} ms`);
    expect(await world.containers()).toHaveLength(0);
    expect(await new PortAllocator().holders(db)).toEqual([]);
    expect((await manager.sessions.list({ status: 'ended' })).length).toBe(count);
  });
});
