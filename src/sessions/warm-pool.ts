import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkWorkspace } from '../config/workspace-guard.js';
import { describeError } from '../errors.js';
import { newSessionId, type SessionExtras, type SessionId, type SessionStore } from '../store/index.js';
import type { ContainerState, WorkstationBackend } from '../workstation/backend.js';
import { LABELS } from '../workstation/labels.js';
import { gitLayoutKey, planGitProtection } from '../workstation/workspace-git-layout.js';
import { workspaceOwner, type NumericUser } from '../workstation/workspace-owner.js';
import { toInfo } from './container-info.js';
import type { SessionLifecycle, SessionRecordFields, StartedSession } from './session-lifecycle.js';
import { recordStep } from './step-recorder.js';

/** Pool members are sessions, so they show up under this user in the store. */
export const POOL_USER = 'nexora-pool';

export interface PoolTarget {
  workspaceDir: string;
  user?: NumericUser;
  startChromium?: boolean;
}

export interface PoolMemberStatus {
  sessionId: string;
  poolKey: string;
  workspaceDir: string;
  state: ContainerState;
  ready: boolean;
  vncPort: number | null;
  cdpPort: number | null;
  expiresAt: Date | null;
}

export interface FillPoolOptions extends PoolTarget {
  size: number;
  idleTimeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

/**
 * A workspace as pools and session records name it (the real path, as the workspace guard
 * returns it), for matching a directory a caller names; its absolute path if it is gone.
 */
export function workspacePath(dir: string): string {
  try {
    return realpathSync.native(resolve(dir));
  } catch {
    return resolve(dir);
  }
}

/** Workstations are interchangeable when image, workspace, user and browser option match. */
export function poolKey(options: { image: string; workspaceDir: string; user: NumericUser; startChromium: boolean }): string {
  return createHash('sha256')
    .update(JSON.stringify([options.image, options.workspaceDir, options.user.uid, options.user.gid, options.startChromium]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Pre-started, paused workstations per workspace, claimed by new sessions in well under the
 * cold-start time. Each member holds its ports under its own session id (status `starting`,
 * marked as a pool member), so the port ranges count it honestly. Built on the lifecycle (a
 * member is a cold start that stays `starting`); the session manager claims through it.
 */
export class WarmPool {
  private readonly lifecycle: SessionLifecycle;
  private readonly sessions: SessionStore;
  private readonly backend: WorkstationBackend;

  constructor(options: { lifecycle: SessionLifecycle }) {
    this.lifecycle = options.lifecycle;
    this.sessions = options.lifecycle.sessions;
    this.backend = options.lifecycle.backend;
  }

  /** The key of the pool that serves `target`, with its workspace and user resolved the way a cold start resolves them. */
  async key(target: PoolTarget): Promise<{ key: string; workspaceDir: string; user: NumericUser; startChromium: boolean }> {
    const workspaceDir = checkWorkspace(target.workspaceDir);
    const user = target.user ?? (await workspaceOwner(workspaceDir));
    const startChromium = target.startChromium ?? false;
    return { key: poolKey({ image: this.backend.image, workspaceDir, user, startChromium }), workspaceDir, user, startChromium };
  }

  /** Fills a workspace's pool up to `size` members. Returns the ids of the members it added. */
  async fill(options: FillPoolOptions): Promise<SessionId[]> {
    const { key, workspaceDir, user } = await this.key(options);
    const existing = await this.sessions.poolMembers(key);
    const missing = Math.max(options.size - existing.length, 0);
    const results = await Promise.allSettled(
      Array.from({ length: missing }, async () => {
        const id = newSessionId();
        await this.sessions.create({ id, userId: POOL_USER, model: 'none', provider: 'none', workspaceDir });
        await this.sessions.markPoolMember(id, { poolKey: key, idleTimeoutMs: options.idleTimeoutMs });
        const started = await this.lifecycle.startCold({
          sessionId: id,
          record: { userId: POOL_USER, model: 'none', provider: 'none' },
          workspaceDir,
          user,
          poolKey: key,
          ...(options.startChromium !== undefined ? { startChromium: options.startChromium } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
        try {
          await recordStep(this.lifecycle.events, {
            sessionId: id,
            kind: 'pool-pause',
            run: () => this.backend.pause(started.info.id, options.signal ? { signal: options.signal } : {}),
          });
          await this.sessions.markPoolReady(id);
          await this.sessions.setOwner(id, undefined);
        } catch (error) {
          await this.lifecycle.stop(id, { reason: `warm-pool pause failed: ${describeError(error)}` }).catch(() => undefined);
          throw error;
        }
        options.onProgress?.(`pool member ${id} ready (ports ${started.info.vncPort}/${started.info.cdpPort})`);
        return id;
      }),
    );
    const added = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed && added.length === 0) throw failed.reason;
    return added;
  }

  /**
   * Claims a ready workstation for a new session with the given record fields: one transaction
   * takes the member (no two claims get the same one), then the container is unpaused.
   * Undefined when the pool is empty or the member fails to wake (it is then removed).
   */
  async claim(options: PoolTarget & { record: SessionRecordFields; signal?: AbortSignal }): Promise<StartedSession | undefined> {
    const begun = performance.now();
    const { key, workspaceDir } = await this.key(options);
    const id = await this.sessions.claimPoolMember({ poolKey: key, ...options.record });
    if (!id) return undefined;
    const signal = options.signal ? { signal: options.signal } : {};
    try {
      const session = await this.sessions.get(id);
      const container = await this.lifecycle.findContainer(id, session.containerId, signal);
      if (!container) throw new Error('its container is gone');
      // Its read-only git mounts were fixed when it was made: a `.git` created or replaced since,
      // or a submodule added, would be writable in it. Such a member is removed, never handed out.
      if (container.labels[LABELS.gitLayout] !== gitLayoutKey(planGitProtection(workspaceDir))) {
        throw new Error("the workspace's git layout changed since it was warmed, so its read-only git mounts no longer cover it");
      }
      await recordStep(this.lifecycle.events, { sessionId: id, kind: 'pool-claim', run: () => this.backend.unpause(container.id, signal), describe: () => ({ containerId: container.id }) });
      const active = await this.sessions.transition(id, 'active', { reason: 'claimed from the warm pool' });
      const password = await this.lifecycle.vncPassword(id);
      return {
        session: active,
        info: toInfo(active, { ...container, state: 'running' }, true),
        workstation: this.backend.workstation(container, password),
        fromPool: true,
        durationMs: performance.now() - begun,
      };
    } catch (error) {
      await this.lifecycle.stop(id, { reason: `warm-pool claim failed: ${describeError(error)}` }).catch(() => undefined);
      return undefined;
    }
  }

  /** Live members (claimed ones excluded), of one pool or all. */
  members(key?: string): Promise<SessionExtras[]> {
    return this.sessions.poolMembers(key);
  }

  /** Pushes back the idle expiry of a pool's members: someone still starts sessions from it. */
  extend(key: string, idleTimeoutMs: number): Promise<void> {
    return this.sessions.extendPoolMembers(key, idleTimeoutMs);
  }

  /** Removes one member and frees its ports. */
  async retire(sessionId: SessionId, reason: string): Promise<void> {
    await this.lifecycle.stop(sessionId, { reason });
  }

  /** Every pool member with its container's state. */
  async status(): Promise<PoolMemberStatus[]> {
    const members = await this.sessions.poolMembers();
    const containers = await this.backend.list();
    const result: PoolMemberStatus[] = [];
    for (const member of members) {
      const session = await this.sessions.get(member.id);
      const container = containers.find((candidate) => candidate.sessionId === member.id);
      result.push({
        sessionId: member.id,
        poolKey: member.poolKey ?? '',
        workspaceDir: session.workspaceDir ?? '',
        state: container?.state ?? 'missing',
        ready: member.poolReadyAt !== null && container?.state === 'paused',
        vncPort: session.vncPort,
        cdpPort: session.cdpPort,
        expiresAt: member.poolExpiresAt,
      });
    }
    return result;
  }

  /** Removes pool members (of one workspace, or all) and frees their ports. */
  async drain(options: { workspaceDir?: string } = {}): Promise<SessionId[]> {
    const members = await this.status();
    const target = options.workspaceDir ? workspacePath(options.workspaceDir) : undefined;
    const drained: SessionId[] = [];
    for (const member of members) {
      if (target && member.workspaceDir !== target) continue;
      await this.lifecycle.stop(member.sessionId as SessionId, { reason: 'warm pool drained' });
      drained.push(member.sessionId as SessionId);
    }
    return drained;
  }
}
