import { z } from 'zod';
import { describeError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import { LABELS } from '../workstation/labels.js';
import type { SessionManager } from './session-manager.js';

/** What happens to a session whose workstation died or turned unhealthy. */
export type HealthPolicy = 'restart' | 'crash';

export interface HealthMonitorOptions {
  policy?: HealthPolicy;
  /** A full check of every session this often (catches what events miss). Default 10 s. */
  sweepIntervalMs?: number;
  /** Restarts allowed per session before it is marked crashed. Default 3. */
  maxRestarts?: number;
  /** Called after each handled incident, for logs and tests. */
  onIncident?: (incident: HealthIncident) => void;
}

export interface HealthIncident {
  sessionId: string;
  containerId: string;
  /** What was noticed. */
  problem: 'died' | 'unhealthy' | 'oom' | 'missing' | 'engine-lost';
  /** What was done. */
  action: 'restarted' | 'crashed' | 'ignored' | 'restart-failed';
  detail?: string;
}

const eventSchema = z
  .object({
    Type: z.string().optional(),
    Action: z.string(),
    Actor: z.object({ ID: z.string(), Attributes: z.record(z.string(), z.string()).optional() }),
  })
  .passthrough();

/**
 * Watches the engine's event stream (die, oom, health_status) and sweeps periodically; a
 * dead or unhealthy workstation of an active session is recorded as an event and then
 * restarted or marked crashed by policy. When the engine itself goes away (a dockerd
 * restart), the stream breaks: the monitor reconnects and reconciles everything.
 */
export class HealthMonitor {
  private readonly manager: SessionManager;
  private readonly policy: HealthPolicy;
  private readonly sweepIntervalMs: number;
  private readonly maxRestarts: number;
  private readonly onIncident: ((incident: HealthIncident) => void) | undefined;
  private readonly restarts = new Map<string, number>();
  private readonly busy = new Set<string>();
  private controller: AbortController | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private engineLost = false;
  private sweeping: Promise<void> | undefined;

  constructor(manager: SessionManager, options: HealthMonitorOptions = {}) {
    this.manager = manager;
    this.policy = options.policy ?? 'restart';
    this.sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
    this.maxRestarts = options.maxRestarts ?? 3;
    this.onIncident = options.onIncident;
  }

  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    this.running = this.watch(this.controller.signal);
    this.sweepTimer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Checks every active session's container now (one sweep at a time). */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    let containers;
    try {
      containers = await this.manager.backend.list(this.callOptions());
    } catch {
      this.engineLost = true;
      return;
    }
    if (this.engineLost) {
      // The engine came back: its containers may have exited with it.
      this.engineLost = false;
      await this.manager.reconcile({ onStopped: this.policy === 'restart' ? 'restart' : 'crash' }).catch(() => undefined);
      return;
    }
    const active = await this.manager.sessions.list({ status: 'active' });
    for (const session of active) {
      const container = containers.find((candidate) => candidate.id === session.containerId || candidate.sessionId === session.id);
      if (!container) await this.handle(session.id, session.containerId ?? '', 'missing');
      // A paused workstation (a parked session) runs no health probe: its last flag means nothing.
      else if (container.state === 'paused') continue;
      else if (container.state === 'exited' || container.state === 'dead' || container.state === 'created') await this.handle(session.id, container.id, 'died');
      else if (container.health === 'unhealthy') await this.handle(session.id, container.id, 'unhealthy');
    }
  }

  private async watch(signal: AbortSignal): Promise<void> {
    let backoffMs = 100;
    while (!signal.aborted) {
      try {
        const stream = await this.manager.backend.events({ signal });
        if (this.engineLost) void this.sweep();
        backoffMs = 100;
        await this.consume(stream, signal);
      } catch {
        // The engine is unreachable (restarting?): retry with backoff.
      }
      if (signal.aborted) break;
      this.engineLost = true;
      await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
      backoffMs = Math.min(backoffMs * 2, 5000);
      if (!signal.aborted) await this.sweep();
    }
  }

  private consume(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let buffer = '';
      const finish = (): void => {
        signal.removeEventListener('abort', finish);
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        resolve();
      };
      signal.addEventListener('abort', finish, { once: true });
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) this.onEvent(line);
        }
      });
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
    });
  }

  private onEvent(line: string): void {
    let parsed;
    try {
      parsed = eventSchema.safeParse(JSON.parse(line));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const event = parsed.data;
    const sessionId = event.Actor.Attributes?.[LABELS.session];
    if (!sessionId) return;
    if (event.Action === 'die') void this.handle(sessionId, event.Actor.ID, 'died');
    else if (event.Action === 'oom') void this.handle(sessionId, event.Actor.ID, 'oom');
    else if (event.Action === 'health_status: unhealthy') void this.handle(sessionId, event.Actor.ID, 'unhealthy');
  }

  private async handle(sessionId: string, containerId: string, problem: HealthIncident['problem']): Promise<void> {
    if (this.busy.has(sessionId)) return;
    this.busy.add(sessionId);
    try {
      const session = await this.manager.sessions.find(sessionId as SessionId);
      const extras = session ? await this.manager.sessions.extras(session.id) : undefined;
      // Only active sessions are monitored: a stop in progress also makes containers die.
      if (!session || session.status !== 'active' || extras?.poolKey) return;
      const id = session.id;
      if (problem === 'unhealthy') {
        // Docker's flag lags (a woken pool container reads unhealthy until its next probe): look.
        const status = await (await this.manager.workstation(id)).status(this.callOptions());
        if (status.ready) {
          this.report({ sessionId: id, containerId, problem, action: 'ignored', detail: 'healthy when checked' });
          return;
        }
      }
      await this.manager.events.record({ sessionId: id, kind: 'workstation-health', payload: { problem, containerId } });
      const restarts = this.restarts.get(id) ?? 0;
      if (this.policy === 'restart' && problem !== 'missing' && restarts < this.maxRestarts) {
        this.restarts.set(id, restarts + 1);
        try {
          if (problem === 'unhealthy') await this.manager.backend.stop(containerId, 2, this.callOptions());
          await this.manager.resume(id);
          this.report({ sessionId: id, containerId, problem, action: 'restarted' });
          return;
        } catch (error) {
          this.report({ sessionId: id, containerId, problem, action: 'restart-failed', detail: describeError(error) });
        }
      }
      const reason = `workstation ${problem}${this.policy === 'restart' ? ' and could not be restarted' : ''}`;
      if (containerId) await this.manager.backend.remove(containerId, this.callOptions()).catch(() => undefined);
      await this.manager.sessions.transition(id, 'crashed', { reason }).catch(() => undefined);
      await this.manager.sessions.setOwner(id, undefined).catch(() => undefined);
      // A crash is an end too: the workspace's git gets the same final check as a stop.
      await this.manager.settleGit(id);
      this.report({ sessionId: id, containerId, problem, action: 'crashed' });
    } catch (error) {
      this.report({ sessionId, containerId, problem, action: 'ignored', detail: describeError(error) });
    } finally {
      this.busy.delete(sessionId);
    }
  }

  /** Engine calls end when the monitor stops (each also has the backend's own deadline). */
  private callOptions(): { signal?: AbortSignal } {
    return this.controller ? { signal: this.controller.signal } : {};
  }

  private report(incident: HealthIncident): void {
    this.onIncident?.(incident);
  }
}
