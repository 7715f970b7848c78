import { randomBytes } from 'node:crypto';
import type { ApprovalDecision, ApprovalRequest } from '../agent/approval.js';
import { NexoraError } from '../errors.js';

export interface ActiveRun {
  id: string;
  sessionId: string | undefined;
  task: string;
  startedAt: Date;
  controller: AbortController;
  done: Promise<unknown>;
}

interface PendingApproval {
  runId: string;
  request: ApprovalRequest;
  resolve: (decision: ApprovalDecision) => void;
}

/**
 * The agent runs in progress, so that another request can interrupt them, and the approval
 * questions they wait on, so that the client that started a run (or another) can answer.
 */
export class RunRegistry {
  private readonly runs = new Map<string, ActiveRun>();
  private readonly approvals = new Map<string, PendingApproval>();
  private nextApproval = 1;

  newId(): string {
    return `run_${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
  }

  add(run: ActiveRun): void {
    this.runs.set(run.id, run);
    void run.done.finally(() => this.runs.delete(run.id)).catch(() => undefined);
  }

  list(): { id: string; sessionId: string | undefined; task: string; startedAt: string; waitingFor: { approval: string; command: string }[] }[] {
    return [...this.runs.values()].map((run) => ({
      id: run.id,
      sessionId: run.sessionId,
      task: run.task,
      startedAt: run.startedAt.toISOString(),
      waitingFor: [...this.approvals.entries()].filter(([, pending]) => pending.runId === run.id).map(([approval, pending]) => ({ approval, command: pending.request.command })),
    }));
  }

  interrupt(id: string): void {
    const run = this.runs.get(id);
    if (!run) throw new NexoraError('not-found', `There is no run ${id} in progress (it may have finished).`);
    run.controller.abort(new NexoraError('aborted', 'Interrupted on request.'));
  }

  /**
   * Puts an approval question to the run's client: `announce` tells it the question's id; the
   * answer comes through `answer`. Refused when the signal aborts (the run was interrupted or
   * its client went away) — never left hanging.
   */
  ask(runId: string, request: ApprovalRequest, options: { signal: AbortSignal; announce: (approvalId: string) => void }): Promise<ApprovalDecision> {
    if (options.signal.aborted) return Promise.resolve({ approved: false, reason: 'the run was interrupted' });
    const approvalId = `apr_${this.nextApproval++}`;
    return new Promise((resolve) => {
      const onAbort = (): void => settle({ approved: false, reason: 'no one answered: the run was interrupted or its client left' });
      const settle = (decision: ApprovalDecision): void => {
        if (!this.approvals.delete(approvalId)) return;
        options.signal.removeEventListener('abort', onAbort);
        resolve(decision);
      };
      this.approvals.set(approvalId, { runId, request, resolve: settle });
      options.signal.addEventListener('abort', onAbort, { once: true });
      options.announce(approvalId);
    });
  }

  /** Records which session a run works in (known once it has started). */
  setSession(runId: string, sessionId: string): void {
    const run = this.runs.get(runId);
    if (run) run.sessionId = sessionId;
  }

  /** The questions waiting in runs on one session (what the web view shows). */
  pendingFor(sessionId: string): { id: string; runId: string; tool: string; command: string; reasons: string[] }[] {
    return [...this.approvals.entries()]
      .filter(([, pending]) => this.runs.get(pending.runId)?.sessionId === sessionId)
      .map(([id, pending]) => ({ id, runId: pending.runId, tool: pending.request.tool, command: pending.request.command, reasons: pending.request.reasons }));
  }

  /** Answers a question by its id alone, if it belongs to a run on that session; false when it is not open. */
  answerForSession(sessionId: string, approvalId: string, decision: ApprovalDecision): boolean {
    const pending = this.approvals.get(approvalId);
    if (!pending || this.runs.get(pending.runId)?.sessionId !== sessionId) return false;
    pending.resolve(decision);
    return true;
  }

  /** Answers a pending approval question of a run. */
  answer(runId: string, approvalId: string, decision: ApprovalDecision): void {
    const pending = this.approvals.get(approvalId);
    if (!pending || pending.runId !== runId) {
      throw new NexoraError('not-found', `Run ${runId} has no open question ${approvalId} (it was answered, or the run ended).`);
    }
    pending.resolve(decision);
  }

  async interruptAll(): Promise<void> {
    const all = [...this.runs.values()];
    for (const run of all) run.controller.abort(new NexoraError('aborted', 'The server is shutting down.'));
    await Promise.allSettled(all.map((run) => run.done));
  }
}
