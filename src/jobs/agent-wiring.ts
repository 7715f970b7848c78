import type { AgentRunOptions } from '../agent/agent-run.js';
import { ApprovalGuard, type Approver } from '../agent/approval.js';
import type { ApprovalMode } from '../agent/approval-mode.js';
import { costPayloadSchema } from '../agent/session-totals.js';
import type { EffectiveConfig } from '../config/config-schema.js';
import { nexoraPaths } from '../paths.js';
import { z } from 'zod';
import type { ProviderRegistry, ResolvedModel } from '../providers/registry.js';
import { createRedactor } from '../secrets/index.js';
import { EventStore, type Db, type SessionId, type SessionStore } from '../store/index.js';
import type { VisualTools } from '../tools/types.js';
import { archivingTools, ScreenshotArchive } from '../viewer/screenshot-archive.js';

/** The agent-loop options that come from configuration, with the command's own limits on top. */
export function agentLimits(
  agent: EffectiveConfig['agent'],
  overrides: { maxSteps?: number | undefined; maxCostUsd?: number | undefined } = {},
): Pick<AgentRunOptions, 'maxSteps' | 'maxCostUsd' | 'keepImages' | 'imageDropChunk' | 'maxToolOutputChars' | 'maxOutputTokens' | 'screenImages'> {
  const maxCostUsd = overrides.maxCostUsd ?? agent.maxCostUsd;
  return {
    maxSteps: overrides.maxSteps ?? agent.maxSteps,
    ...(maxCostUsd ? { maxCostUsd } : {}),
    keepImages: agent.keepImages,
    imageDropChunk: agent.imageDropChunk,
    maxToolOutputChars: agent.maxToolOutputChars,
    maxOutputTokens: agent.maxOutputTokens,
    screenImages: agent.screenImages,
  };
}

/** An event store that scrubs the candidates' API keys from every payload it writes. */
export async function redactingEventStore(db: Db, registry: ProviderRegistry, candidates: readonly ResolvedModel[]): Promise<EventStore> {
  const found = await Promise.all(candidates.map((candidate) => registry.apiKeyFor(candidate.info.provider)));
  return new EventStore(db, { redact: createRedactor(found.flatMap((entry) => (entry.key ? [entry.key] : []))) });
}

const stepCost = z.looseObject({ cost: costPayloadSchema });

/**
 * Writes every recorded agent event to the session's events table, and adds each step's
 * tokens and money to the session's totals.
 */
export function recordInto(events: EventStore, sessions: SessionStore, sessionId: SessionId): NonNullable<AgentRunOptions['record']> {
  return async (event) => {
    await events.record({ sessionId, kind: event.kind, payload: event.payload, ...(event.durationMs !== undefined ? { durationMs: event.durationMs } : {}) });
    if (event.kind === 'step-end') {
      const parsed = stepCost.safeParse(event.payload);
      if (parsed.success) await sessions.addUsage(sessionId, parsed.data.cost);
    }
  };
}

/**
 * The run's approval policy; every question and answer is recorded as an `approval-decision`
 * event, so the transcript shows what was asked, why, and what the person said.
 */
export function approvalGuard(options: { mode: ApprovalMode; approver: Approver | undefined; events: EventStore; sessionId: SessionId; noApproverReason?: string }): ApprovalGuard {
  const { events, sessionId } = options;
  return new ApprovalGuard({
    mode: options.mode,
    ...(options.approver ? { approver: options.approver } : {}),
    ...(options.noApproverReason ? { noApproverReason: options.noApproverReason } : {}),
    onDecision: async (request, decision) => {
      await events.record({ sessionId, kind: 'approval-decision', payload: { ...request, ...decision } });
    },
  });
}

/** Saves each screenshot the agent sees, recorded as a `screen-capture` event (transcripts and export use them). */
export function sessionScreenshotArchive(events: EventStore, sessionId: SessionId): ScreenshotArchive {
  return new ScreenshotArchive({
    root: nexoraPaths().screenshots,
    sessionId,
    onSaved: async (saved) => {
      await events.record({ sessionId, kind: 'screen-capture', payload: { file: saved.file, width: saved.width, height: saved.height } });
    },
  });
}

/**
 * The tools as the agent gets them: every screenshot archived for the transcript. (Take-over
 * is not here: the server's live session holds every door's input at one gate, the agent's too.)
 */
export function agentTools(tools: VisualTools, archive: ScreenshotArchive): VisualTools {
  return archivingTools(tools, archive);
}
