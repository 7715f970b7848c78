import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConversation } from '../agent/conversation-record.js';
import type { Approver } from '../agent/approval.js';
import { replaySteps, replayStepsOf, type ReplayStep, type ReplayStepResult } from '../agent/replay.js';
import { toReplayScript, type ReplayScript } from '../agent/replay-script.js';
import { loadConfig } from '../config/load-config.js';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { writeFileUnder } from '../safe-file/index.js';
import { openSessionManager, type OpenedSessionManager } from '../sessions/open-session-manager.js';
import { EventStore, SessionStore, type Db, type SessionId } from '../store/index.js';
import { connectTools } from '../tools/connect-tools.js';
import { formatDuration } from '../output/format.js';
import { conversationSource } from './conversation-wiring.js';
import { approvalGuard } from './agent-wiring.js';
import { openJobDatabase } from './job-store.js';
import { copyWorkspace } from './workspace-copy.js';
import { snapshotDir } from './workspace-snapshot.js';

/** A session's recorded tool calls (its own runs, not earlier sessions of its conversation). */
export async function recordedSteps(db: Db, sessionId: SessionId): Promise<ReplayStep[]> {
  await new SessionStore(db).get(sessionId);
  const loaded = await loadConversation({ sessionId, source: conversationSource(new EventStore(db)), maxSessions: 1 });
  const steps = replayStepsOf(loaded.entries);
  if (steps.length === 0) throw new NexoraError('session-not-found', `Session ${sessionId} has no recorded tool calls to replay (the agent made none, or it ran before tool results were recorded).`);
  return steps;
}

export async function exportReplayScript(options: { sessionId: SessionId; file: string; db?: Db }): Promise<{ file: string; steps: number }> {
  const db = options.db ?? (await openJobDatabase());
  try {
    const session = await new SessionStore(db).get(options.sessionId);
    const workspace = session.workspaceDir && existsSync(session.workspaceDir) ? session.workspaceDir : undefined;
    const maxOutputChars = workspace ? (await loadConfig({ workspace })).config.agent.maxToolOutputChars : 8000;
    const script: ReplayScript = toReplayScript(await recordedSteps(db, options.sessionId), { sessionId: options.sessionId, maxOutputChars });
    // Often written into a workspace: a link planted at the name is replaced, never written through.
    await writeFileUnder({ root: dirname(resolve(options.file)), path: basename(options.file), data: `${JSON.stringify(script, null, 2)}\n` });
    return { file: options.file, steps: script.steps.length };
  } finally {
    if (!options.db) await db.close();
  }
}

export interface ReplayReport {
  steps: ReplayStepResult[];
  differences: number;
  /** The first step whose result differs, if any. */
  firstDifferent: ReplayStepResult | undefined;
  usedSnapshot: boolean;
}

/**
 * Replays a session: copies its workspace as it was when the session started (its snapshot)
 * or, without one, as it is now (with a warning), starts a fresh workstation over the copy,
 * and performs every recorded tool call, comparing results step by step.
 */
export async function replaySession(options: {
  sessionId: SessionId;
  keep?: boolean;
  db?: Db;
  openManager?: (db: Db) => Promise<OpenedSessionManager>;
  write?: (line: string) => void;
  /** Who answers approval questions again (none: what needs a yes is refused). */
  approver?: Approver;
}): Promise<ReplayReport> {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const db = options.db ?? (await openJobDatabase());
  let copyRoot: string | undefined;
  try {
    const session = await new SessionStore(db).get(options.sessionId);
    const steps = await recordedSteps(db, options.sessionId);
    const snapshot = snapshotDir(options.sessionId);
    const usedSnapshot = existsSync(snapshot);
    const source = usedSnapshot ? snapshot : session.workspaceDir;
    if (!source || !existsSync(source)) throw new NexoraError('invalid-argument', `Session ${options.sessionId} has no workspace copy and its workspace ${session.workspaceDir ?? '(none)'} is gone: there is nothing to replay over.`);
    if (!usedSnapshot) {
      write(`! No copy of the workspace was kept when session ${options.sessionId} started (\`nexora run --snapshot\` keeps one): replaying over a copy of ${source} as it is now, which may have changed since.`);
    }
    const { config } = await loadConfig({ workspace: session.workspaceDir && existsSync(session.workspaceDir) ? session.workspaceDir : source });
    copyRoot = join(nexoraPaths().home, 'replays', `${options.sessionId}-${Date.now().toString(36)}`);
    mkdirSync(copyRoot, { recursive: true, mode: 0o700 });
    const workspace = join(copyRoot, 'workspace');
    const copied = await copyWorkspace({ from: source, to: workspace });
    write(`· replaying ${steps.length} tool calls of session ${options.sessionId} over ${usedSnapshot ? 'its workspace as it was at the start' : 'the current workspace'} (${copied.files} files), no model involved`);
    const opened = options.openManager ? await options.openManager(db) : await openSessionManager({ db });
    try {
      const started = await opened.manager.start({ workspaceDir: workspace, usePool: false, onProgress: (step) => write(`· ${step}`) });
      write(`· workstation ${started.session.id} ready in ${formatDuration(started.durationMs)}`);
      try {
        const connected = await connectTools(started.workstation);
        try {
          // A yes given when the session ran is not a yes now: the policy asks again.
          const approval = approvalGuard({ mode: config.agent.approve, approver: options.approver, events: new EventStore(db), sessionId: started.session.id, noApproverReason: replayNoApprover });
          const results = await replaySteps({ tools: connected.tools, steps, maxOutputChars: config.agent.maxToolOutputChars, approval, onStep: (result) => printReplayStep(result, write) });
          const different = results.filter((result) => result.outcome === 'different');
          const firstDifferent = different[0];
          write(
            firstDifferent
              ? `✗ ${different.length} of ${results.length} steps differ; the first is step ${firstDifferent.step.index} (${firstDifferent.step.toolName})`
              : `✓ reproduced: ${results.filter((result) => result.outcome === 'same').length} steps gave the recorded results${results.some((result) => result.outcome === 'skipped') ? `, ${results.filter((result) => result.outcome === 'skipped').length} skipped` : ''}`,
          );
          return { steps: results, differences: different.length, firstDifferent, usedSnapshot };
        } finally {
          connected.close();
        }
      } finally {
        if (!options.keep) await opened.manager.stopContainer(started.session.id, { reason: 'replay finished' }).catch(() => undefined);
        else write(`· kept: workstation ${started.session.id}, workspace copy ${workspace}`);
      }
    } finally {
      await opened.close();
    }
  } finally {
    if (copyRoot && !options.keep) await rm(copyRoot, { recursive: true, force: true }).catch(() => undefined);
    if (!options.db) await db.close();
  }
}

/** Why a replayed or scripted call that needs a yes is refused when no one answers. */
export const replayNoApprover = 'a replay or script asks again for every call that needs a yes (a yes given when it was recorded is not replayed), and no one can be asked here';

/** One line per step (and the differing line, when it differs). */
export function printReplayStep(result: ReplayStepResult, write: (line: string) => void): void {
  const input = JSON.stringify(result.step.input) ?? '';
  const call = `step ${result.step.index} ${result.step.toolName} ${input.length > 100 ? `${input.slice(0, 99)}…` : input}`;
  switch (result.outcome) {
    case 'same':
      write(`  ✓ ${call} — same (${formatDuration(result.durationMs)})`);
      break;
    case 'performed':
      write(`  → ${call} (${formatDuration(result.durationMs)})${result.isError ? ' — failed' : ''}`);
      for (const line of result.actual.split('\n').slice(0, 8)) write(`    │ ${line}`);
      break;
    case 'skipped':
      write(`  · ${call} — skipped: ${result.step.skip ?? ''}`);
      break;
    case 'different':
      write(`  ✗ ${call} — differs at line ${result.difference?.line ?? '?'} of its result`);
      write(`    recorded: ${result.difference?.expected ?? ''}`);
      write(`    now:      ${result.difference?.actual ?? ''}`);
      break;
  }
}
