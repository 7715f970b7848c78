import type { ApprovalMode } from './approval-mode.js';
import { commandRisk } from './command-risk.js';

/** A command waiting for a person's yes. */
export interface ApprovalRequest {
  tool: 'execute' | 'keyboard';
  /** The command line as it would run (for keyboard: the line the Enter submits). */
  command: string;
  cwd?: string;
  /** Why it needs approval: the risk's reasons, or "every command is checked" under `always`. */
  reasons: string[];
}

export type ApprovalDecision = { approved: true } | { approved: false; reason: string };

/** Asks a person (TUI prompt, terminal prompt, web view); resolves with their answer. */
export type Approver = (request: ApprovalRequest, options: { signal: AbortSignal }) => Promise<ApprovalDecision>;

export interface ApprovalGuardOptions {
  mode: ApprovalMode;
  /** Who to ask; without one (`nexora run` with no terminal), commands that need a yes are refused. */
  approver?: Approver;
  workspace?: string;
  /** Told about every request and its outcome, for the session's events. */
  onDecision?: (request: ApprovalRequest, decision: ApprovalDecision) => void | Promise<void>;
}

/** Keys that submit the line typed so far, and keys that throw it away. */
const submitKeys = /^(enter|return|kp_enter|ctrl\+[mj])$/i;
const clearKeys = /^(ctrl\+[cu]|escape)$/i;

/**
 * The approval policy of one run. It sees `execute` commands and the command lines the model
 * types (what an Enter would submit, including text typed in earlier calls), judges them with
 * command-risk.ts, and asks the person when the policy says so. A refusal comes back as text
 * the model reads: the call did not run.
 */
export class ApprovalGuard {
  /** What has been typed on the current line in earlier keyboard calls (a shell's line buffer, roughly). */
  private pendingLine = '';

  constructor(private readonly options: ApprovalGuardOptions) {}

  get mode(): ApprovalMode {
    return this.options.mode;
  }

  /** Undefined when the command may run; otherwise why not, for the model. */
  async checkExecute(command: string, options: { cwd?: string; signal: AbortSignal }): Promise<string | undefined> {
    return this.check([{ tool: 'execute', command, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) }], options.signal);
  }

  /** The same for a keyboard call: every line it would submit is judged before any key is sent. */
  async checkKeyboard(input: { text?: string; keys?: string[] }, options: { signal: AbortSignal }): Promise<string | undefined> {
    const { lines, pending } = submittedLines(this.pendingLine, input);
    const refusal = await this.check(lines.filter((line) => line.trim().length > 0).map((command) => ({ tool: 'keyboard' as const, command })), options.signal);
    // Refused keys are not typed, so the line buffer stays as it was.
    if (refusal === undefined) this.pendingLine = pending;
    return refusal;
  }

  private async check(commands: Omit<ApprovalRequest, 'reasons'>[], signal: AbortSignal): Promise<string | undefined> {
    if (this.options.mode === 'never') return undefined;
    for (const command of commands) {
      const risk = commandRisk(command.command, { ...(this.options.workspace ? { workspace: this.options.workspace } : {}), ...(command.cwd ? { cwd: command.cwd } : {}) });
      if (this.options.mode === 'risky' && !risk.risky) continue;
      const request: ApprovalRequest = { ...command, reasons: risk.risky ? risk.reasons : ['the approval policy is "always": every command is checked'] };
      const decision: ApprovalDecision = this.options.approver
        ? await this.options.approver(request, { signal })
        : { approved: false, reason: 'no one can be asked in this run (nexora run without a terminal)' };
      await this.options.onDecision?.(request, decision);
      if (!decision.approved) return refusalText(request, decision.reason, this.options.mode);
    }
    return undefined;
  }
}

/** The lines a keyboard call submits (with what was typed before), and the line left pending after it. */
export function submittedLines(pendingBefore: string, input: { text?: string; keys?: string[] }): { lines: string[]; pending: string } {
  const lines: string[] = [];
  let pending = pendingBefore;
  for (const char of input.text ?? '') {
    if (char === '\n' || char === '\r') {
      lines.push(pending);
      pending = '';
    } else if (char === '\u0003' || char === '\u0015' || char === '\u001b') pending = '';
    else if (char === '\u007f' || char === '\b') pending = pending.slice(0, -1);
    else pending += char;
  }
  for (const key of input.keys ?? []) {
    if (submitKeys.test(key)) {
      lines.push(pending);
      pending = '';
    } else if (clearKeys.test(key)) pending = '';
  }
  return { lines, pending };
}

function refusalText(request: ApprovalRequest, reason: string, mode: ApprovalMode): string {
  const what = request.tool === 'execute' ? `execute(${JSON.stringify(request.command)})` : `typing the command line ${JSON.stringify(request.command)}`;
  return [
    `Not run: ${what} needs a person's approval under the approval policy "${mode}" (${request.reasons.join('; ')}), and it was refused: ${reason}.`,
    'Nothing was executed or typed. Do not try to get around this (another spelling, a script, another tool): find a way that stays inside the project, or finish and explain in your summary what you would have run and why.',
  ].join(' ');
}
