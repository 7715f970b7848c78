import { describeError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import type { NumericUser } from '../workstation/workspace-owner.js';
import type { AdmissionQueue } from './admission-queue.js';
import { workspacePath, type WarmPool } from './warm-pool.js';

export interface PoolTargetSpec {
  workspaceDir: string;
  user?: NumericUser;
  startChromium?: boolean;
  size: number;
  idleTimeoutMs: number;
}

interface Target {
  key: string;
  workspaceDir: string;
  user: NumericUser;
  startChromium: boolean;
  size: number;
  idleTimeoutMs: number;
  lastDemandAt: number;
}

export interface PoolKeeperOptions {
  /** The pools to keep (the session manager's `pool`). */
  pool: WarmPool;
  /** Pool starts wait their turn with session starts. */
  admission: AdmissionQueue;
  /** How often to look at every pool without being asked. Default 2 s. */
  intervalMs?: number;
  log?: (line: string) => void;
}

/**
 * Keeps each warm pool at its size while it is in use, and retires it when nobody has asked
 * for it within its idle timeout. Runs in the server, so the pool refills between commands.
 */
export class PoolKeeper {
  private readonly pool: WarmPool;
  private readonly admission: AdmissionQueue;
  private readonly intervalMs: number;
  private readonly log: (line: string) => void;
  private readonly targets = new Map<string, Target>();
  private readonly filling = new Map<string, Promise<SessionId[]>>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(options: PoolKeeperOptions) {
    this.pool = options.pool;
    this.admission = options.admission;
    this.intervalMs = options.intervalMs ?? 2000;
    this.log = options.log ?? (() => undefined);
  }

  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
  }

  /**
   * Someone wants sessions for this workspace: keep its pool at `size` from now on. Resolves
   * with the members added when the pool is full (a refill also starts in the background).
   */
  async demand(spec: PoolTargetSpec): Promise<SessionId[]> {
    const target = await this.targetFor(spec);
    this.targets.set(target.key, target);
    await this.pool.extend(target.key, spec.idleTimeoutMs);
    return this.fill(target);
  }

  /** A session was claimed from a pool: a kept pool stays in use and refills. */
  async claimed(spec: Omit<PoolTargetSpec, 'size' | 'idleTimeoutMs'>): Promise<void> {
    const probe = await this.targetFor({ ...spec, size: 0, idleTimeoutMs: 0 });
    const target = this.targets.get(probe.key);
    if (!target) return;
    target.lastDemandAt = Date.now();
    await this.pool.extend(target.key, target.idleTimeoutMs);
    void this.fill(target).catch((error: unknown) => this.log(`warm pool for ${target.workspaceDir}: ${describeError(error)}`));
  }

  /** Stops keeping the pools of one workspace (or all): `pool drain` must not be undone by a refill. */
  forget(options: { workspaceDir?: string } = {}): void {
    const workspaceDir = options.workspaceDir ? workspacePath(options.workspaceDir) : undefined;
    for (const target of [...this.targets.values()]) if (!workspaceDir || target.workspaceDir === workspaceDir) this.targets.delete(target.key);
  }

  private async targetFor(spec: PoolTargetSpec): Promise<Target> {
    const { key, workspaceDir, user, startChromium } = await this.pool.key(spec);
    return { key, workspaceDir, user, startChromium, size: spec.size, idleTimeoutMs: spec.idleTimeoutMs, lastDemandAt: Date.now() };
  }

  /** Fills (or retires) every pool now; resolves when this round is done. */
  tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = this.round().finally(() => {
      this.ticking = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.tick();
      }
    });
    return this.ticking;
  }

  /** The pools being kept, for status output. */
  get kept(): { workspaceDir: string; size: number; idleTimeoutMs: number }[] {
    return [...this.targets.values()].map(({ workspaceDir, size, idleTimeoutMs }) => ({ workspaceDir, size, idleTimeoutMs }));
  }

  private async round(): Promise<void> {
    for (const target of [...this.targets.values()]) {
      if (this.stopped) return;
      try {
        if (Date.now() - target.lastDemandAt > target.idleTimeoutMs) {
          await this.retire(target);
          continue;
        }
        await this.fill(target);
      } catch (error) {
        this.log(`warm pool for ${target.workspaceDir}: ${describeError(error)}`);
      }
    }
  }

  /** One fill per pool at a time (two would both count the same members and overfill). */
  private fill(target: Target): Promise<SessionId[]> {
    let pending = this.filling.get(target.key);
    if (!pending) {
      pending = this.fillOnce(target).finally(() => this.filling.delete(target.key));
      this.filling.set(target.key, pending);
    }
    return pending;
  }

  /** Adds members one at a time, each through the admission queue like any start. */
  private async fillOnce(target: Target): Promise<SessionId[]> {
    const all: SessionId[] = [];
    for (;;) {
      const have = (await this.pool.members(target.key)).length;
      if (have >= target.size || this.stopped || !this.targets.has(target.key)) return all;
      const added = await this.admission.run(() =>
        this.pool.fill({
          workspaceDir: target.workspaceDir,
          user: target.user,
          startChromium: target.startChromium,
          size: have + 1,
          idleTimeoutMs: target.idleTimeoutMs,
        }),
      );
      this.log(`warm pool for ${target.workspaceDir}: added ${added.join(', ') || 'none'} (${have + added.length}/${target.size})`);
      all.push(...added);
      if (added.length === 0) return all;
    }
  }

  private async retire(target: Target): Promise<void> {
    this.targets.delete(target.key);
    const members = await this.pool.members(target.key);
    for (const member of members) {
      await this.pool.retire(member.id, 'warm-pool member idle').catch(() => undefined);
    }
    this.log(`warm pool for ${target.workspaceDir}: idle for ${Math.round(target.idleTimeoutMs / 1000)} s, retired ${members.length} member(s)`);
  }
}
