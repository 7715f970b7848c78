import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { EventStore, PortAllocator, releasePorts, type Db } from '../src/store/index.js';
import { createSessionEnv, WORKSPACE_GID, WORKSPACE_UID, type SessionEnv } from './fixtures/session-env.js';

let world: SessionEnv;
let manager: SessionManager;
let db: Db;

beforeAll(async () => {
  world = await createSessionEnv('sess');
  const opened = await world.open();
  manager = opened.manager;
  db = opened.db;
});

afterAll(async () => {
  await world?.dispose();
});

async function holders(): Promise<string[]> {
  return (await new PortAllocator().holders(db)).map((holder) => holder.sessionId);
}

describe('session lifecycle', () => {
  it('starts, becomes ready, stops; the container is removed, ports released, every step recorded', async () => {
    const workspace = world.workspace();
    const started = await manager.start({ workspaceDir: workspace, usePool: false });
    const id = started.session.id;
    expect(started.info.ready).toBe(true);
    expect(started.info.session).toBe(id);
    expect(started.info.workingDir).toBe(workspace);
    expect(started.session.status).toBe('active');
    expect(await holders()).toContain(id);
    const info = await manager.getContainer(id);
    expect(info?.id).toBe(started.info.id);
    expect(info?.ready).toBe(true);
    const status = await started.workstation.status();
    expect(status).toMatchObject({ state: 'running', ready: true });

    await manager.stopContainer(id);
    expect((await manager.sessions.get(id)).status).toBe('ended');
    expect(await world.containers()).toHaveLength(0);
    expect(await holders()).not.toContain(id);
    const kinds = (await new EventStore(db).list(id)).map((event) => event.kind);
    for (const kind of ['session-create', 'ports-allocate', 'workstation-create', 'workstation-ready', 'session-status-change', 'workstation-remove', 'ports-release']) {
      expect(kinds).toContain(kind);
    }
    console.log(`cold start ${started.durationMs.toFixed(0)} ms`);
  });

  it('undoes everything when a start is aborted half-way', async () => {
    const controller = new AbortController();
    const aborted = manager.start({
      workspaceDir: world.workspace(),
      usePool: false,
      signal: controller.signal,
      onProgress: (step) => {
        if (step.startsWith('waiting for the desktop')) controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ code: 'aborted' });
    const crashed = (await manager.sessions.list({ status: 'crashed' })).find((session) => session.statusReason?.includes('aborted'));
    expect(crashed).toBeDefined();
    expect(await world.containers()).toHaveLength(0);
    expect(await holders()).not.toContain(crashed?.id);
  });

  it('runs the workstation hardened: owner uid, read-only root, no capabilities, limits, loopback ports, no Docker socket', async () => {
    const workspace = world.workspace();
    const started = await manager.start({ workspaceDir: workspace, usePool: false });
    try {
      const inspect = await world.docker.getContainer(started.info.id).inspect();
      expect(inspect.Config.User).toBe(`${WORKSPACE_UID}:${WORKSPACE_GID}`);
      expect(inspect.HostConfig.ReadonlyRootfs).toBe(true);
      expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
      expect(inspect.HostConfig.CapAdd ?? []).toEqual([]);
      expect(inspect.HostConfig.Privileged).toBe(false);
      expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges:true');
      expect(inspect.HostConfig.Memory).toBeGreaterThan(0);
      expect(inspect.HostConfig.NanoCpus).toBeGreaterThan(0);
      expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(inspect.HostConfig.Init).toBe(true);
      expect(inspect.HostConfig.NetworkMode).toBe(world.networkName);
      expect(JSON.stringify(inspect.Mounts)).not.toMatch(/docker\.sock/);
      expect(inspect.Mounts.map((mount) => mount.Destination)).toEqual(['/workspace']);
      for (const bindings of Object.values(inspect.NetworkSettings.Ports)) {
        for (const binding of bindings ?? []) expect(binding.HostIp).toBe('127.0.0.1');
      }
      // Inside: the process really runs as the workspace owner, with no capabilities at all.
      const who = await started.workstation.exec({ cmd: 'id -u; id -g; grep CapEff /proc/self/status; touch / 2>&1; echo root-write=$?' });
      const lines = who.stdout.trim().split('\n');
      expect(lines[0]).toBe(String(WORKSPACE_UID));
      expect(lines[1]).toBe(String(WORKSPACE_GID));
      expect(lines[2]).toMatch(/CapEff:\s+0+$/);
      expect(who.stdout).toMatch(/root-write=1/);
      const root = await started.workstation.exec({ cmd: 'echo x > /etc/probe' });
      expect(root.exitCode).not.toBe(0);
      expect(root.stderr).toMatch(/Read-only|Permission denied/);
      // A file written in /workspace belongs to the workspace owner on the host.
      const made = await started.workstation.exec({ cmd: 'echo hello > /workspace/made-inside.txt' });
      expect(made.exitCode).toBe(0);
      const file = statSync(join(workspace, 'made-inside.txt'));
      expect([file.uid, file.gid]).toEqual([WORKSPACE_UID, WORKSPACE_GID]);
      writeFileSync(join(workspace, 'from-host.txt'), 'host');
      expect((await started.workstation.exec({ cmd: 'cat /workspace/from-host.txt' })).stdout).toBe('host');
    } finally {
      await manager.stopContainer(started.session.id);
    }
  });

  it('exec separates the streams and kills the whole process group on timeout', async () => {
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    const { workstation } = started;
    try {
      const both = await workstation.exec({ cmd: 'echo out; echo err >&2; exit 3' });
      expect(both).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3, timedOut: false });
      const slow = await workstation.exec({ cmd: 'sleep 1000 & sleep 1001 & echo started; wait', timeoutMs: 500 });
      expect(slow.timedOut).toBe(true);
      expect(slow.stdout).toBe('started\n');
      expect(slow.durationMs).toBeLessThan(5000);
      const survivors = await workstation.exec({ cmd: 'ps -eo args | grep -c "^sleep 100[01]" || true' });
      expect(survivors.stdout.trim()).toBe('0');
      const env = await workstation.exec({ cmd: ['sh', '-c', 'echo "$FOO $(pwd)"'], env: { FOO: 'bar' }, cwd: '/tmp' });
      expect(env.stdout).toBe('bar /tmp\n');
    } finally {
      await manager.stopContainer(started.session.id);
    }
  });

  it('starts Chromium on first use, on the workstation loopback only, once', async () => {
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    try {
      // Not running yet: an idle session does not pay for the browser.
      const before = await started.workstation.exec({ cmd: ['sh', '-c', 'pgrep -c chromium || true'], cwd: '/' });
      expect(before.stdout.trim()).toBe('0');
      const endpoint = await started.workstation.ensureBrowser({ timeoutMs: 60_000 });
      expect(endpoint.started).toBe(true);
      const version = await started.workstation.exec({ cmd: ['curl', '-fsS', `http://127.0.0.1:${endpoint.port}/json/version`], cwd: '/' });
      expect(version.stdout).toMatch(/"Browser": "Chrom/);
      const again = await started.workstation.ensureBrowser({ timeoutMs: 60_000 });
      expect(again).toEqual({ port: endpoint.port, started: false });
    } finally {
      await manager.stopContainer(started.session.id);
    }
  });

  it('resumes a session whose container stopped: same container, same ports, history intact', async () => {
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    const id = started.session.id;
    try {
      await started.workstation.exec({ cmd: 'echo kept > /workspace/kept.txt' });
      await manager.backend.stop(started.info.id, 1);
      const before = (await new EventStore(db).list(id)).length;
      const resumed = await manager.resume(id);
      expect(resumed.info.id).toBe(started.info.id);
      expect([resumed.info.vncPort, resumed.info.cdpPort]).toEqual([started.info.vncPort, started.info.cdpPort]);
      expect((await resumed.workstation.status()).ready).toBe(true);
      expect((await resumed.workstation.exec({ cmd: 'cat /workspace/kept.txt' })).stdout).toBe('kept\n');
      const events = await new EventStore(db).list(id);
      expect(events.length).toBeGreaterThan(before);
      expect(events.map((event) => event.kind)).toContain('workstation-restart');
      // A running one is reattached without a restart.
      const again = await manager.resume(id);
      expect(again.info.id).toBe(started.info.id);
    } finally {
      await manager.stopContainer(id);
    }
  });

  it('cleans up: removes labelled containers without a live session and crashes sessions without a container', async () => {
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    const lost = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    // An orphan: the store forgets the session, the container stays.
    await db.query("UPDATE sessions SET status = 'ended', ended_at = now() WHERE id = $1", [started.session.id]);
    await releasePorts(db, started.session.id);
    // A lost session: its container disappears behind the manager's back.
    await manager.backend.remove(lost.info.id);
    const report = await manager.reconcile();
    expect(report.removedContainers).toContain(started.info.name);
    expect(report.crashedSessions).toContain(lost.session.id);
    expect((await manager.sessions.get(lost.session.id)).status).toBe('crashed');
    expect(await holders()).not.toContain(lost.session.id);
    expect(await world.containers()).toHaveLength(0);
  });
});

describe('missing image', () => {
  it('says how to build it, before creating anything; sessions can still be listed', async () => {
    const { manager: imageless } = await world.open({ db, image: 'nexora-workstation:not-built' });
    const before = (await imageless.sessions.list()).length;
    const error = await imageless.start({ workspaceDir: world.workspace(), usePool: false }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'image-missing' });
    expect((error as Error).message).toMatch(/nexora image build/);
    expect((await imageless.sessions.list()).length).toBe(before);
    await expect(imageless.list({ all: true })).resolves.toBeInstanceOf(Array);
  });
});

describe('port exhaustion', () => {
  it('fails clearly and leaves no container and no allocation behind', async () => {
    const small = await createSessionEnv('exh', { vncRange: [46500, 46500], cdpRange: [47500, 47500] });
    try {
      const { manager: tiny, db: tinyDb } = await small.open();
      const first = await tiny.start({ workspaceDir: small.workspace(), usePool: false });
      const error = await tiny.start({ workspaceDir: small.workspace(), usePool: false }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ports-exhausted' });
      expect(String((error as Error).message)).toMatch(/No free VNC port in 46500–46500/);
      const containers = await small.containers();
      expect(containers.map((container) => container.Id)).toEqual([first.info.id]);
      expect((await new PortAllocator().holders(tinyDb)).map((holder) => holder.sessionId)).toEqual([first.session.id]);
      const failed = (await tiny.sessions.list({ status: 'crashed' }))[0];
      expect(failed?.statusReason).toMatch(/start failed/);
      await tiny.stopContainer(first.session.id);
      expect(await new PortAllocator().holders(tinyDb)).toEqual([]);
    } finally {
      await small.dispose();
    }
  });
});

describe('warm pool', () => {
  it('claims a pre-started workstation well under the cold-start time, and holds its ports honestly', async () => {
    const workspace = world.workspace('pooled');
    const warmed = await manager.pool.fill({ workspaceDir: workspace, size: 2, idleTimeoutMs: 600_000 });
    expect(warmed).toHaveLength(2);
    const status = await manager.pool.status();
    expect(status.filter((member) => member.ready)).toHaveLength(2);
    // Pool members hold ports under their own session ids.
    const held = await holders();
    for (const id of warmed) expect(held).toContain(id);
    expect((await manager.list()).map((summary) => summary.session.id)).not.toContain(warmed[0]);

    const cold = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    const claimed = await manager.start({ workspaceDir: workspace });
    expect(claimed.fromPool).toBe(true);
    expect(warmed).toContain(claimed.session.id);
    expect(claimed.session.status).toBe('active');
    const exec = await claimed.workstation.exec({ cmd: 'tmux has-session -t main && echo ok' });
    expect(exec.stdout).toBe('ok\n');
    console.log(`cold start ${cold.durationMs.toFixed(0)} ms, pool claim ${claimed.durationMs.toFixed(1)} ms`);
    expect(claimed.durationMs).toBeLessThan(cold.durationMs / 2);
    // Only one member left; a direct claim takes it, then the pool is empty and a start falls back to cold.
    const second = await manager.claimFromPool({ workspaceDir: workspace });
    expect(second?.fromPool).toBe(true);
    expect(await manager.claimFromPool({ workspaceDir: workspace })).toBeUndefined();
    for (const started of [cold, claimed, second!]) await manager.stopContainer(started.session.id);
    await manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 600_000 });
    const drained = await manager.pool.drain();
    expect(drained).toHaveLength(1);
    expect(await world.containers()).toHaveLength(0);
    expect(await holders()).toEqual([]);
  });

  it("gives a claimed session the manager's configured record defaults, as a cold start gets them", async () => {
    const defaults = { userId: 'alice', model: 'test/pool-defaults', provider: 'test' };
    const configured = await world.open({ db, defaults });
    const workspace = world.workspace('pool-defaults');
    await configured.manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 600_000 });
    const claimed = await configured.manager.start({ workspaceDir: workspace });
    const cold = await configured.manager.start({ workspaceDir: workspace, usePool: false });
    try {
      expect(claimed.fromPool).toBe(true);
      expect(cold.fromPool).toBe(false);
      for (const started of [claimed, cold]) {
        const record = await configured.manager.sessions.get(started.session.id);
        expect({ userId: record.userId, model: record.model, provider: record.provider }).toEqual(defaults);
      }
      // What the caller gives still wins over the defaults, on a claim too.
      await configured.manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 600_000 });
      const explicit = await configured.manager.claimFromPool({ workspaceDir: workspace, model: 'test/explicit' });
      expect(explicit?.session).toMatchObject({ userId: 'alice', model: 'test/explicit', provider: 'test' });
      if (explicit) await configured.manager.stopContainer(explicit.session.id);
    } finally {
      for (const started of [claimed, cold]) await configured.manager.stopContainer(started.session.id);
    }
    expect(await world.containers()).toHaveLength(0);
    expect(await holders()).toEqual([]);
  });

  it('removes members past their idle timeout at the next reconciliation, releasing their ports', async () => {
    const workspace = world.workspace('expiring');
    const [member] = await manager.pool.fill({ workspaceDir: workspace, size: 1, idleTimeoutMs: 1 });
    expect(member).toBeDefined();
    // Expired members are never handed out.
    expect(await manager.claimFromPool({ workspaceDir: workspace })).toBeUndefined();
    const report = await manager.reconcile();
    expect(report.expiredPoolMembers).toEqual([member]);
    expect(await world.containers()).toHaveLength(0);
    expect(await holders()).toEqual([]);
  });
});
