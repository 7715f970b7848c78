import { checkWorkspace } from '../config/workspace-guard.js';
import type { EventStore, SessionId, SessionRecord, SessionStore } from '../store/index.js';
import type { ManagedContainer, WorkstationBackend } from '../workstation/backend.js';
import type { Workstation } from '../workstation/workstation.js';
import type { NumericUser } from '../workstation/workspace-owner.js';
import { toInfo, type ContainerInfo } from './container-info.js';
import type { GitChangesReport } from './git-baselines.js';
import type { ReconcileOptions, ReconcileReport, Reconciler } from './reconcile.js';
import type { LifecycleCallOptions, SessionLifecycle, SessionRecordFields, StartedSession, StopOutcome } from './session-lifecycle.js';
import type { PoolTarget, WarmPool } from './warm-pool.js';

export type { PasswordSealer } from './vnc-password.js';
export type { StartedSession, StopOutcome } from './session-lifecycle.js';

export interface SessionManagerOptions {
  /** Starts, stops and resumes one session's workstation. */
  lifecycle: SessionLifecycle;
  /** Warm workstations, claimed by `start` before a cold start. */
  pool: WarmPool;
  /** Makes the store and the engine agree. */
  reconciler: Reconciler;
  /** Values for the session record when the caller gives none: the same for a claim and a cold start. */
  defaults?: Partial<SessionRecordFields>;
}

export interface StartOptions {
  workspaceDir: string;
  /** A session id to use (a new one otherwise); a session created beforehand must be `starting`. Never from the pool. */
  sessionId?: SessionId;
  /** The user the workstation runs as; default: the workspace directory's owner. */
  user?: NumericUser;
  /** Start Chromium now instead of on first use. */
  startChromium?: boolean;
  userId?: string;
  model?: string;
  provider?: string;
  /** Claim a warm workstation first (default true). */
  usePool?: boolean;
  /**
   * Runs the cold start (not a claim, which is cheap) when its turn comes: the server's
   * admission queue. Default: at once.
   */
  admit?: (coldStart: () => Promise<StartedSession>) => Promise<StartedSession>;
  signal?: AbortSignal;
  /** Called as each step begins, for progress lines. */
  onProgress?: (step: string) => void;
}

export interface SessionSummary {
  session: SessionRecord;
  container: ManagedContainer | undefined;
  /** Set while the session is parked (paused): when the server stops it. */
  keptUntil: Date | null;
}

/**
 * The session service: start (from the warm pool when it has a workstation for the workspace,
 * else cold), stop, get, list, resume, remove, reconcile. Its collaborators are passed in
 * (see createSessionManager) and none of them knows it: the lifecycle does one session's
 * steps, the pool and the reconciler build on the lifecycle.
 */
export class SessionManager {
  /** The session records (read them here; their state changes go through the manager). */
  readonly sessions: SessionStore;
  /** Each session's history. */
  readonly events: EventStore;
  readonly backend: WorkstationBackend;
  /** Warm workstations: fill, status, drain. */
  readonly pool: WarmPool;
  private readonly lifecycle: SessionLifecycle;
  private readonly reconciler: Reconciler;
  private readonly defaults: SessionRecordFields;

  constructor(options: SessionManagerOptions) {
    this.lifecycle = options.lifecycle;
    this.pool = options.pool;
    this.reconciler = options.reconciler;
    this.sessions = options.lifecycle.sessions;
    this.events = options.lifecycle.events;
    this.backend = options.lifecycle.backend;
    this.defaults = {
      userId: options.defaults?.userId ?? 'local',
      model: options.defaults?.model ?? 'none',
      provider: options.defaults?.provider ?? 'none',
    };
  }

  /**
   * Starts a session, from the warm pool when it has a workstation for this workspace (well
   * under the cold-start time), else cold. Both ways get the same record defaults.
   */
  async start(options: StartOptions): Promise<StartedSession> {
    // Before the pool is asked: a member warmed for an unsafe directory must not be handed out either.
    checkWorkspace(options.workspaceDir);
    const startedAt = new Date();
    const record = this.recordFields(options);
    let started: StartedSession | undefined;
    if (options.usePool !== false && !options.sessionId) {
      options.onProgress?.('claiming a warm workstation');
      started = await this.pool.claim({ ...poolTarget(options), record, ...(options.signal ? { signal: options.signal } : {}) });
    }
    if (!started) {
      const coldStart = (): Promise<StartedSession> =>
        this.lifecycle.startCold({
          ...poolTarget(options),
          record,
          ...(options.sessionId ? { sessionId: options.sessionId } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        });
      started = await (options.admit ? options.admit(coldStart) : coldStart());
    }
    // Taken in the background, as of the moment the start began (see GitBaselines.save).
    this.lifecycle.recordGitBaseline(started.session.id, started.session.workspaceDir, startedAt);
    return started;
  }

  /** A session from the pool only (with the manager's defaults): undefined when the pool has none ready. */
  async claimFromPool(options: PoolTarget & Pick<StartOptions, 'userId' | 'model' | 'provider' | 'signal'>): Promise<StartedSession | undefined> {
    const startedAt = new Date();
    const started = await this.pool.claim({ ...poolTarget(options), record: this.recordFields(options), ...(options.signal ? { signal: options.signal } : {}) });
    if (started) this.lifecycle.recordGitBaseline(started.session.id, started.session.workspaceDir, startedAt);
    return started;
  }

  /**
   * What the session changed in the workspace's git metadata (hooks, config, new repositories…)
   * since it started; undefined when there is no baseline for it.
   */
  gitChanges(sessionId: SessionId, options: { signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    return this.lifecycle.gitChanges(sessionId, options);
  }

  /** Makes the store and the engine agree (see reconcile.ts). */
  reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    return this.reconciler.run(options);
  }

  /** The seed's CleanupOrphaned: reconciles and returns the names of the containers it removed. */
  async cleanupOrphaned(options: ReconcileOptions = {}): Promise<string[]> {
    return (await this.reconciler.run(options)).removedContainers;
  }

  /** The seed's StartContainer: a cold start of a workstation for `sessionId`. */
  async startContainer(sessionId: SessionId, workspaceDir: string, options: { signal?: AbortSignal } = {}): Promise<ContainerInfo> {
    const started = await this.start({ sessionId, workspaceDir, usePool: false, ...options });
    return started.info;
  }

  /**
   * The seed's StopContainer: ends a session, removes its workstation and releases its ports,
   * then runs the git check every stop runs (whichever door asked) and returns its report.
   * Stopping a session that is already over only removes a container left behind.
   */
  stopContainer(sessionId: SessionId, options: { reason?: string } = {}): Promise<StopOutcome> {
    return this.lifecycle.stop(sessionId, options);
  }

  /** The final git check of a session that ended without a stop (a crash): see SessionLifecycle.settleGit. */
  settleGit(sessionId: SessionId): Promise<GitChangesReport | undefined> {
    return this.lifecycle.settleGit(sessionId);
  }

  /** Stops the git guards of this process (its sessions keep running; the next process guards them). */
  closeGitGuards(): Promise<void> {
    return this.lifecycle.closeGitGuards();
  }

  /** The seed's GetContainer: undefined when the session has no workstation container. */
  async getContainer(sessionId: SessionId): Promise<ContainerInfo | undefined> {
    const session = await this.sessions.get(sessionId);
    const container = await this.lifecycle.findContainer(sessionId, session.containerId);
    if (!container) return undefined;
    // Docker's health flag is not consulted: it lags after an unpause (see the health monitor).
    const ready = session.status === 'active' && container.state === 'running';
    return toInfo(session, container, ready);
  }

  /** The workstation of an active session, for the tools. */
  workstation(sessionId: SessionId): Promise<Workstation> {
    return this.lifecycle.workstation(sessionId);
  }

  /** The session's VNC password in the clear (for the RFB client; print it only on request). */
  vncPassword(sessionId: SessionId): Promise<string> {
    return this.lifecycle.vncPassword(sessionId);
  }

  /** Sessions (warm-pool members excluded), newest first, each with its container as the engine sees it. */
  async list(options: { all?: boolean } = {}): Promise<SessionSummary[]> {
    const sessions = await this.sessions.list(options.all ? {} : { statuses: ['starting', 'active', 'stopping'] });
    const pool = await this.sessions.poolMemberIds();
    const listed = sessions.filter((session) => !pool.has(session.id));
    // No session, no container to look up: `session list` on an idle host asks the engine nothing.
    if (listed.length === 0) return [];
    const containers = await this.backend.list();
    const extras = await this.sessions.liveExtras();
    const byId = new Map(containers.map((container) => [container.id, container]));
    const bySession = new Map(containers.map((container) => [container.sessionId, container]));
    return listed.map((session) => ({
        session,
        container: (session.containerId ? byId.get(session.containerId) : undefined) ?? bySession.get(session.id),
        keptUntil: extras.get(session.id)?.keptUntil ?? null,
      }));
  }

  /**
   * Reattaches to an active session: returns at once when its container runs, unpauses a
   * paused one, and restarts a stopped one (same container, same workspace, same ports).
   */
  resume(sessionId: SessionId, options: LifecycleCallOptions = {}): Promise<StartedSession> {
    return this.lifecycle.resume(sessionId, options);
  }

  /**
   * Parks an active session: its workstation paused and kept for `--continue`/resume until
   * `until`; then `stopExpired` (the server's sweep) stops and removes it. The one rule for every
   * way a run or client ends without `--keep` or `--rm` (see keep-idle.ts).
   */
  park(sessionId: SessionId, options: { until: Date; reason?: string; signal?: AbortSignal }): Promise<void> {
    return this.lifecycle.park(sessionId, options);
  }

  /**
   * Stops (through the normal stop, git check included) every parked session whose time is up;
   * returns their ids. A failed stop is left for the next sweep.
   */
  async stopExpired(options: { now?: Date; onError?: (sessionId: SessionId, error: unknown) => void } = {}): Promise<SessionId[]> {
    const stopped: SessionId[] = [];
    for (const sessionId of await this.sessions.expiredParked(options.now)) {
      try {
        await this.lifecycle.stop(sessionId, { reason: 'kept idle past its time' });
        stopped.push(sessionId);
      } catch (error) {
        options.onError?.(sessionId, error);
      }
    }
    return stopped;
  }

  /** Ends a session (if live) and deletes its record and history. */
  remove(sessionId: SessionId): Promise<void> {
    return this.lifecycle.remove(sessionId);
  }

  private recordFields(options: Partial<SessionRecordFields>): SessionRecordFields {
    return {
      userId: options.userId ?? this.defaults.userId,
      model: options.model ?? this.defaults.model,
      provider: options.provider ?? this.defaults.provider,
    };
  }
}

function poolTarget(options: PoolTarget): PoolTarget {
  return {
    workspaceDir: options.workspaceDir,
    ...(options.user ? { user: options.user } : {}),
    ...(options.startChromium !== undefined ? { startChromium: options.startChromium } : {}),
  };
}
