import { createHash } from 'node:crypto';
import { checkWorkspace } from '../config/workspace-guard.js';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { describeError } from '../errors.js';
import { newSessionId, type SessionId } from '../store/index.js';
import type { ContainerState } from '../workstation/backend.js';
import { workspaceOwner, type NumericUser } from '../workstation/workspace-owner.js';
import { claimPoolMember, markPoolMember, markPoolReady, poolMembers, setOwner } from './session-extras.js';
import { toInfo } from './container-info.js';
import type { SessionManager, StartedSession } from './session-manager.js';

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

/** Workstations are interchangeable when image, workspace, user and browser option match. */
export function poolKey(options: { image: string; workspaceDir: string; user: NumericUser; startChromium: boolean }): string {
  return createHash('sha256')
    .update(JSON.stringify([options.image, options.workspaceDir, options.user.uid, options.user.gid, options.startChromium]))
    .digest('hex')
    .slice(0, 16);
}

async function keyFor(manager: SessionManager, target: PoolTarget): Promise<{ key: string; workspaceDir: string; user: NumericUser }> {
  const workspaceDir = checkWorkspace(target.workspaceDir);
  const user = target.user ?? (await workspaceOwner(workspaceDir));
  return { key: poolKey({ image: manager.backend.image, workspaceDir, user, startChromium: target.startChromium ?? false }), workspaceDir, user };
}

/**
 * Fills a workspace's pool up to `size` pre-started, paused workstations. Each holds its
 * ports under its own session id (status `starting`, marked as a pool member), so the port
 * ranges count it honestly. Returns the ids of the members it added.
 */
export async function warmPool(
  manager: SessionManager,
  options: PoolTarget & { size: number; idleTimeoutMs: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<SessionId[]> {
  const { key, workspaceDir, user } = await keyFor(manager, options);
  const existing = await poolMembers(manager.db, key);
  const missing = Math.max(options.size - existing.length, 0);
  const results = await Promise.allSettled(
    Array.from({ length: missing }, async () => {
      const id = newSessionId();
      await manager.sessions.create({ id, userId: POOL_USER, model: 'none', provider: 'none', workspaceDir });
      await markPoolMember(manager.db, id, key, options.idleTimeoutMs);
      const started = await manager.startCold({
        sessionId: id,
        workspaceDir,
        user,
        poolKey: key,
        ...(options.startChromium !== undefined ? { startChromium: options.startChromium } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      try {
        await manager.timed(id, 'pool-pause', () => manager.backend.pause(started.info.id));
        await markPoolReady(manager.db, id);
        await setOwner(manager.db, id, undefined);
      } catch (error) {
        await manager.stopContainer(id, { reason: `warm-pool pause failed: ${describeError(error)}` }).catch(() => undefined);
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
 * Claims a ready workstation from the pool for a new session: one transaction takes the
 * member (no two claims get the same one), then the container is unpaused. Undefined when
 * the pool is empty or the member fails to wake (it is then removed).
 */
export async function claimFromPool(
  manager: SessionManager,
  options: PoolTarget & { userId?: string; model?: string; provider?: string },
): Promise<StartedSession | undefined> {
  const begun = performance.now();
  const { key } = await keyFor(manager, options);
  const id = await claimPoolMember(manager.db, {
    poolKey: key,
    userId: options.userId ?? 'local',
    model: options.model ?? 'none',
    provider: options.provider ?? 'none',
  });
  if (!id) return undefined;
  try {
    const session = await manager.sessions.get(id);
    const container = await manager.findContainer(id, session.containerId);
    if (!container) throw new Error('its container is gone');
    await manager.timed(id, 'pool-claim', () => manager.backend.unpause(container.id), () => ({ containerId: container.id }));
    const active = await manager.sessions.transition(id, 'active', { reason: 'claimed from the warm pool' });
    const password = await manager.vncPassword(id);
    return {
      session: active,
      info: toInfo(active, { ...container, state: 'running' }, true),
      workstation: manager.backend.workstation(container, password),
      fromPool: true,
      durationMs: performance.now() - begun,
    };
  } catch (error) {
    await manager.stopContainer(id, { reason: `warm-pool claim failed: ${describeError(error)}` }).catch(() => undefined);
    return undefined;
  }
}

/** Every pool member with its container's state. */
export async function poolStatus(manager: SessionManager): Promise<PoolMemberStatus[]> {
  const members = await poolMembers(manager.db);
  const containers = await manager.backend.list();
  const result: PoolMemberStatus[] = [];
  for (const member of members) {
    const session = await manager.sessions.get(member.id);
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
export async function drainPool(manager: SessionManager, options: { workspaceDir?: string } = {}): Promise<SessionId[]> {
  const members = await poolStatus(manager);
  const target = options.workspaceDir ? resolve(options.workspaceDir) : undefined;
  const drained: SessionId[] = [];
  for (const member of members) {
    if (target && member.workspaceDir !== target) continue;
    await manager.stopContainer(member.sessionId as SessionId, { reason: 'warm pool drained' });
    drained.push(member.sessionId as SessionId);
  }
  return drained;
}
