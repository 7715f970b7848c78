import { z } from 'zod';
import { approvalModes } from '../agent/approval-mode.js';
import { NexoraError } from '../errors.js';
import { routingStrategies } from '../providers/router.js';

/** What a run is asked to do: `nexora run`'s flags, validated the same way on both sides of the API. */
export const runFlags = z.strictObject({
  task: z.string().trim().min(1, 'the task is empty: say what to do, e.g. nexora run "add a test for parse()"'),
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  strategy: z.enum(routingStrategies).optional(),
  workspace: z.string().min(1),
  session: z.string().optional(),
  maxSteps: z.coerce.number().int().min(1).max(10_000).optional(),
  maxCost: z.coerce.number().positive().finite().optional(),
  json: z.boolean().optional(),
  keep: z.boolean().optional(),
  rm: z.boolean().optional(),
  approve: z.enum(approvalModes).optional(),
  continue: z.boolean().optional(),
  resume: z.string().min(1).optional(),
  snapshot: z.boolean().optional(),
});
export type RunFlags = z.infer<typeof runFlags>;

/** --continue, --resume and --session each say where the run goes on: at most one of them. */
export function checkExclusiveFlags(flags: Pick<RunFlags, 'continue' | 'resume' | 'session' | 'keep' | 'rm'>): void {
  if (flags.keep === true && flags.rm === true) {
    throw new NexoraError('invalid-argument', 'Use one of --keep and --rm: --keep leaves the workstation running, --rm removes it as soon as the run ends.');
  }
  if ([flags.continue === true, flags.resume !== undefined, flags.session !== undefined].filter(Boolean).length > 1) {
    throw new NexoraError('invalid-argument', 'Use one of --continue, --resume ID and --session ID: --continue and --resume carry on a conversation, --session starts a new one on an active session.');
  }
}
