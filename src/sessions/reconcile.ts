import type { Db, EventStore, PortAllocator, SessionExtras, SessionId, SessionRecord, SessionStore } from '../store/index.js';
import type { ManagedContainer, WorkstationBackend } from '../workstation/backend.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import { isOwnerAlive } from './session-owner.js';

/** What to do with an active session whose container exists but does not run. */
export type StoppedPolicy = 'keep' | 'restart' | 'crash';

export interface ReconcileOptions {
  /** Keep (resumable with `session resume`, the default), restart now, or end as crashed. */
  onStopped?: StoppedPolicy;
  /** A starting/stopping session whose owner cannot be checked (another host) counts as dead after this long. */
  staleAfterMs?: number;
}

export interface ReconcileReport {
  /** Containers removed: labelled as Nexora's, with no live session. */
  removedContainers: string[];
  /** Sessions marked crashed (start interrupted, container gone). */
  crashedSessions: string[];
  /** Sessions whose interrupted stop was finished. */
  endedSessions: string[];
  /** Live sessions whose running container was kept (adopted back). */
  adoptedSessions: string[];
  /** Active sessions whose container is stopped (resumable). */
  stoppedSessions: string[];
  restartedSessions: string[];
  /** Sessions that held ports without a live session. */
  releasedPorts: string[];
  /** Warm-pool members past their idle timeout, removed. */
  expiredPoolMembers: string[];
}

export interface ReconcilerOptions {
  db: Db;
  ports: PortAllocator;
  /** Restarts stopped workstations (policy `restart`); its store, events and backend are the reconciler's too. */
  lifecycle: SessionLifecycle;
}

/**
 * Makes the store and the engine agree, after anything: a nexora process killed mid-start or
 * mid-session, a Docker engine restart, a container removed by hand. Labelled containers with
 * no live session are removed; sessions without a container are marked crashed (freeing their
 * ports); a session whose starter or stopper died is finished (removed); running containers of
 * active sessions are adopted back. Sessions that a live process is working on are left alone.
 */
export class Reconciler {
  private readonly db: Db;
  private readonly ports: PortAllocator;
  private readonly lifecycle: SessionLifecycle;
  private readonly sessions: SessionStore;
  private readonly events: EventStore;
  private readonly backend: WorkstationBackend;

  constructor(options: ReconcilerOptions) {
    this.db = options.db;
    this.ports = options.ports;
    this.lifecycle = options.lifecycle;
    this.sessions = options.lifecycle.sessions;
    this.events = options.lifecycle.events;
    this.backend = options.lifecycle.backend;
  }

  async run(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      removedContainers: [],
      crashedSessions: [],
      endedSessions: [],
      adoptedSessions: [],
      stoppedSessions: [],
      restartedSessions: [],
      releasedPorts: [],
      expiredPoolMembers: [],
    };
    const staleAfterMs = options.staleAfterMs ?? 10 * 60_000;
    // The engine first: if it does not answer, nothing may be concluded from missing containers.
    const containers = await this.backend.list();
    const live = await this.sessions.list({ statuses: ['starting', 'active', 'stopping'] });
    const extras = await this.sessions.liveExtras();
    const sessionsById = new Map(live.map((session) => [session.id as string, session]));
    const claimed = new Set<string>();

    const ownerGone = (session: SessionRecord, extra: SessionExtras | undefined): boolean => {
      const owner = extra?.owner;
      // A session is created a moment before its owner is recorded: give that moment a grace.
      if (!owner) return Date.now() - session.updatedAt.getTime() > 30_000;
      const alive = isOwnerAlive(owner);
      if (alive === 'unknown') return Date.now() - session.updatedAt.getTime() > staleAfterMs;
      return !alive;
    };

    const remove = async (container: ManagedContainer): Promise<void> => {
      try {
        await this.backend.remove(container.id);
        report.removedContainers.push(container.name);
      } catch {
        // One stubborn container must not stop the rest of the clean-up.
      }
    };

    for (const container of containers) {
      const byContainer = live.find((session) => session.containerId === container.id);
      const session = byContainer ?? sessionsById.get(container.sessionId);
      if (!session) {
        await remove(container);
        continue;
      }
      claimed.add(session.id);
      const extra = extras.get(session.id);
      if (session.status === 'starting') {
        if (extra?.poolKey && extra.poolReadyAt) {
          if (extra.poolExpiresAt && extra.poolExpiresAt.getTime() < Date.now()) {
            await remove(container);
            await this.endQuietly(session.id, 'warm-pool member expired');
            report.expiredPoolMembers.push(session.id);
          } else if (container.state !== 'paused' && container.state !== 'running') {
            await remove(container);
            await this.crash(session.id, `warm-pool workstation ${container.state}`);
            report.crashedSessions.push(session.id);
          }
          continue;
        }
        if (!ownerGone(session, extra)) continue;
        await remove(container);
        await this.crash(session.id, 'start interrupted: the nexora process starting it exited');
        report.crashedSessions.push(session.id);
        continue;
      }
      if (session.status === 'stopping') {
        if (!ownerGone(session, extra)) continue;
        await remove(container);
        await this.finishStop(session.id);
        report.endedSessions.push(session.id);
        continue;
      }
      // Active.
      if (session.containerId !== container.id) {
        await this.sessions.setContainer(session.id, { containerId: container.id, vncPort: container.vncPort, cdpPort: container.cdpPort });
      }
      if (container.state === 'running' || container.state === 'paused') {
        if (extra?.owner) await this.sessions.setOwner(session.id, undefined);
        // A session adopted from a process that exited (a server restart) is guarded by this one now.
        await this.lifecycle.guardGit(session.id).catch(() => undefined);
        report.adoptedSessions.push(session.id);
        continue;
      }
      const policy = options.onStopped ?? 'keep';
      if (policy === 'keep') {
        report.stoppedSessions.push(session.id);
      } else if (policy === 'restart') {
        try {
          await this.lifecycle.resume(session.id);
          report.restartedSessions.push(session.id);
        } catch {
          await remove(container);
          await this.crash(session.id, `its workstation did not restart (${container.state})`);
          report.crashedSessions.push(session.id);
        }
      } else {
        await remove(container);
        await this.crash(session.id, `its workstation container ${container.state}`);
        report.crashedSessions.push(session.id);
      }
    }

    for (const session of live) {
      if (claimed.has(session.id)) continue;
      const extra = extras.get(session.id);
      if (session.status === 'active') {
        await this.crash(session.id, 'its workstation container disappeared');
        report.crashedSessions.push(session.id);
      } else if (ownerGone(session, extra)) {
        if (session.status === 'stopping') {
          await this.finishStop(session.id);
          report.endedSessions.push(session.id);
        } else {
          await this.crash(session.id, 'start interrupted before its container existed');
          report.crashedSessions.push(session.id);
        }
      }
    }

    // Ports can only be held by live sessions; anything else is a leak from an older version
    // or a hand-edited database.
    const stillLive = new Set((await this.sessions.list({ statuses: ['starting', 'active', 'stopping'] })).map((session) => session.id as string));
    for (const holder of await this.ports.holders(this.db)) {
      if (stillLive.has(holder.sessionId)) continue;
      await this.ports.release(this.db, holder.sessionId);
      report.releasedPorts.push(holder.sessionId);
    }
    return report;
  }

  private async crash(id: SessionId, reason: string): Promise<void> {
    await this.events.record({ sessionId: id, kind: 'session-reconcile', payload: { outcome: 'crashed', reason } }).catch(() => undefined);
    await this.sessions.transition(id, 'crashed', { reason }).catch(() => undefined);
    await this.sessions.setOwner(id, undefined).catch(() => undefined);
    // Every end gets the final git check, also one found after the process that ran it died.
    await this.lifecycle.settleGit(id);
  }

  private async finishStop(id: SessionId): Promise<void> {
    await this.events.record({ sessionId: id, kind: 'session-reconcile', payload: { outcome: 'ended', reason: 'stop interrupted; finished' } }).catch(() => undefined);
    await this.lifecycle.settleGit(id);
    await this.sessions.transition(id, 'ended', { reason: 'stop finished by reconciliation' }).catch(() => undefined);
    await this.sessions.setOwner(id, undefined).catch(() => undefined);
  }

  private async endQuietly(id: SessionId, reason: string): Promise<void> {
    await this.sessions.transition(id, 'stopping', { reason }).catch(() => undefined);
    await this.sessions.transition(id, 'ended', { reason }).catch(() => undefined);
    await this.sessions.setOwner(id, undefined).catch(() => undefined);
  }
}
