import type { DisplayWindow, PromptLine } from '../tools/types.js';
import type { ApprovalMode } from './approval-mode.js';
import { judgeBrowser, judgeExecute, judgeKeyboardKeys, judgeMouse, judgeSubmittedLine, type ApprovalRequest, type PolicyVerdict } from './approval-policy.js';
import type { KeyboardSegment } from './keyboard-keys.js';

export type { ApprovalRequest } from './approval-policy.js';

export type ApprovalDecision = { approved: true } | { approved: false; reason: string };

/** Asks a person (TUI prompt, terminal prompt, web view); resolves with their answer. */
export type Approver = (request: ApprovalRequest, options: { signal: AbortSignal }) => Promise<ApprovalDecision>;

export interface ApprovalGuardOptions {
  mode: ApprovalMode;
  /** Who to ask; without one (no terminal, a replay, a script), calls that need a yes are refused. */
  approver?: Approver;
  /** Why no one can be asked, for the model (default: a run without a terminal). */
  noApproverReason?: string;
  workspace?: string;
  /** Told about every request and its outcome, for the session's events. */
  onDecision?: (request: ApprovalRequest, decision: ApprovalDecision) => void | Promise<void>;
}

/**
 * The approval policy of one run: the pure rule in approval-policy.ts, a person to ask, and
 * the little state a keyboard needs (what was typed on the current line in earlier calls). A
 * refusal comes back as text the model reads: the call did not run.
 */
export class ApprovalGuard {
  /** Printable text typed since the last accept key, across calls (a shell's line buffer, roughly). */
  private typedLine = '';
  /** Whether the keys since the last accept moved the cursor or recalled lines. */
  private navigated = false;

  constructor(private readonly options: ApprovalGuardOptions) {}

  get mode(): ApprovalMode {
    return this.options.mode;
  }

  /** Undefined when the command may run; otherwise why not, for the model. */
  async checkExecute(command: string, options: { cwd?: string; signal: AbortSignal }): Promise<string | undefined> {
    return this.decide(judgeExecute({ command, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) }, this.context), options.signal);
  }

  /** The control keys of a keyboard call, judged before any key is sent. */
  async checkKeyboardKeys(input: { text?: string; keys?: readonly string[] }, options: { signal: AbortSignal }): Promise<string | undefined> {
    return this.decide(judgeKeyboardKeys(input, this.context), options.signal);
  }

  /** Notes what a segment typed (it was sent), so that a later Enter is judged with it. */
  noteTyped(segment: KeyboardSegment): void {
    this.typedLine += segment.typed;
    this.navigated ||= segment.navigates;
    // Ctrl+C and Ctrl+U throw the line away.
    if ((segment.before?.text ?? '').includes('\u0003') || (segment.before?.text ?? '').includes('\u0015') || (segment.before?.keys ?? []).some((key) => /^(ctrl|control)\+[cu]$/i.test(key))) {
      this.typedLine = '';
      this.navigated = segment.navigates;
    }
  }

  /**
   * The line an accept key would submit, read from the terminal just before it is sent (or
   * undefined when it could not be read): undefined when the key may be sent.
   */
  async checkSubmit(line: PromptLine | undefined, options: { signal: AbortSignal }): Promise<string | undefined> {
    const refusal = await this.decide(judgeSubmittedLine({ line, typed: this.typedLine, navigated: this.navigated }, this.context), options.signal);
    if (refusal === undefined) {
      this.typedLine = '';
      this.navigated = false;
    }
    return refusal;
  }

  async checkMouse(call: { action: string; x: number; y: number; toX?: number; toY?: number; button?: string }, windows: readonly DisplayWindow[] | undefined, options: { signal: AbortSignal }): Promise<string | undefined> {
    return this.decide(judgeMouse(call, windows, this.context), options.signal);
  }

  async checkBrowser(call: { name: string; input: Record<string, unknown> }, page: { url: string | undefined }, options: { signal: AbortSignal }): Promise<string | undefined> {
    return this.decide(judgeBrowser(call, page, this.context), options.signal);
  }

  private get context(): { mode: ApprovalMode; workspace?: string } {
    return { mode: this.options.mode, ...(this.options.workspace ? { workspace: this.options.workspace } : {}) };
  }

  /** Asks when the policy says so: undefined when the call may go ahead, else the refusal for the model. */
  private async decide(verdict: PolicyVerdict, signal: AbortSignal): Promise<string | undefined> {
    if (!verdict.needsYes) return undefined;
    const { request } = verdict;
    const decision: ApprovalDecision = this.options.approver
      ? await this.options.approver(request, { signal })
      : { approved: false, reason: this.options.noApproverReason ?? 'no one can be asked in this run (nexora run without a terminal)' };
    await this.options.onDecision?.(request, decision);
    return decision.approved ? undefined : refusalText(request, decision.reason, this.options.mode);
  }
}

function refusalText(request: ApprovalRequest, reason: string, mode: ApprovalMode): string {
  const what =
    request.tool === 'execute'
      ? `execute(${JSON.stringify(request.command)})`
      : request.tool === 'keyboard'
        ? request.command.startsWith('press ')
          ? `pressing ${request.command.slice(6)}`
          : `submitting the command line ${JSON.stringify(request.command)}`
        : request.tool === 'mouse'
          ? `the mouse ${request.command}`
          : request.command;
  return [
    `Not run: ${what} needs a person's approval under the approval policy "${mode}" (${request.reasons.join('; ')}), and it was refused: ${reason}.`,
    'Nothing was executed or submitted. Do not try to get around this (another spelling, a script, another tool): find a way that stays inside the project, or finish and explain in your summary what you would have run and why.',
  ].join(' ');
}
