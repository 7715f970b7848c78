import { z } from 'zod';
import type { ReplayStep } from './replay.js';

/**
 * A standalone scripted run: the tool calls of a recorded session (the seed's keyboard(),
 * screen() and execute() calls), each with the result it gave, written by `nexora session
 * replay ID --export script` and performed by `nexora demo --script FILE`.
 */
export const replayScriptSchema = z.strictObject({
  nexoraScript: z.literal(1),
  /** Where it came from, for people reading it. */
  from: z.strictObject({ sessionId: z.string(), exportedAt: z.string() }).optional(),
  /** The cap on a result's text when it was recorded (results are compared under the same cap). */
  maxOutputChars: z.number().int().min(500).max(1_000_000).default(8000),
  steps: z
    .array(
      z.strictObject({
        tool: z.enum(['screen', 'keyboard', 'mouse', 'execute']),
        input: z.record(z.string(), z.unknown()),
        /** The result's text when recorded; compared (timings aside) when the script runs. */
        expect: z.string().optional(),
      }),
    )
    .max(10_000),
});
export type ReplayScript = z.infer<typeof replayScriptSchema>;

/** The script for a session's replay steps (calls that never finished are left out). */
export function toReplayScript(steps: readonly ReplayStep[], from: { sessionId: string; maxOutputChars: number }): ReplayScript {
  return {
    nexoraScript: 1,
    maxOutputChars: from.maxOutputChars,
    from: { sessionId: from.sessionId, exportedAt: new Date().toISOString() },
    steps: steps
      .filter((step) => !step.skip && ['screen', 'keyboard', 'mouse', 'execute'].includes(step.toolName))
      .map((step) => ({
        tool: step.toolName as ReplayScript['steps'][number]['tool'],
        input: typeof step.input === 'object' && step.input !== null ? (step.input as Record<string, unknown>) : {},
        ...(step.expected !== undefined ? { expect: step.expected } : {}),
      })),
  };
}

/** The steps a script asks for, ready for replaySteps. */
export function scriptSteps(script: ReplayScript): ReplayStep[] {
  return script.steps.map((step, position) => ({ index: position + 1, toolName: step.tool, input: step.input, ...(step.expect !== undefined ? { expected: step.expect } : {}) }));
}
