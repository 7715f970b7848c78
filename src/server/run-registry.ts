import { randomBytes } from 'node:crypto';
import { NexoraError } from '../errors.js';

export interface ActiveRun {
  id: string;
  sessionId: string | undefined;
  task: string;
  startedAt: Date;
  controller: AbortController;
  done: Promise<unknown>;
}

/** The agent runs in progress, so that another request can interrupt them. */
export class RunRegistry {
  private readonly runs = new Map<string, ActiveRun>();

  newId(): string {
    return `run_${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
  }

  add(run: ActiveRun): void {
    this.runs.set(run.id, run);
    void run.done.finally(() => this.runs.delete(run.id)).catch(() => undefined);
  }

  list(): { id: string; sessionId: string | undefined; task: string; startedAt: string }[] {
    return [...this.runs.values()].map((run) => ({ id: run.id, sessionId: run.sessionId, task: run.task, startedAt: run.startedAt.toISOString() }));
  }

  interrupt(id: string): void {
    const run = this.runs.get(id);
    if (!run) throw new NexoraError('not-found', `There is no run ${id} in progress (it may have finished).`);
    run.controller.abort(new NexoraError('aborted', 'Interrupted on request.'));
  }

  async interruptAll(): Promise<void> {
    const all = [...this.runs.values()];
    for (const run of all) run.controller.abort(new NexoraError('aborted', 'The server is shutting down.'));
    await Promise.allSettled(all.map((run) => run.done));
  }
}
