import type { Command } from 'commander';
import { approvalModes } from '../../agent/approval-mode.js';
import { checkWorkspace } from '../../config/workspace-guard.js';
import { NexoraError } from '../../errors.js';
import { checkExclusiveFlags, runFlags } from '../../jobs/run-flags.js';
import { routingStrategies } from '../../providers/router.js';
import { readTask } from '../task-input.js';

/** `nexora run "task"`: one agent run on a session's workstation, streamed as it goes. */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the agent on a task in a workstation with your project mounted at /workspace')
    .argument('[task]', 'what to do, in words (`-`, or none with a pipe: read it from stdin)')
    .option('--model <provider/model>', 'the model to use (default: "model" in nexora.json, else the cheapest capable one with a key)')
    .option('--strategy <strategy>', `how to pick a model: ${routingStrategies.join(', ')}`)
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--session <id>', 'continue on an active session instead of starting one')
    .option('--max-steps <n>', 'stop after this many model steps')
    .option('--max-cost <usd>', 'stop when the run has cost this many US dollars')
    .option('--json', 'print events as JSON lines instead of a readable log')
    .option('--keep', 'keep the workstation running after the run ends (default: paused and kept for --continue for agent.keepIdleMinutes, then removed)')
    .option('--rm', 'stop and remove the workstation as soon as the run ends')
    .option('--approve <mode>', `which commands need your yes first: ${approvalModes.join(', ')} (default: agent.approve in the config, else risky)`)
    .option('--continue', 'carry on the last conversation in this workspace (its messages, tool results and totals)')
    .option('--resume <id>', 'carry on the conversation of session <id>')
    .option('--snapshot', 'keep a copy of the workspace as it is at the session\'s start, so `nexora session replay` can replay over it')
    .action(async (task: string | undefined, options: Record<string, unknown>) => {
      const parsed = runFlags.safeParse({ task: await readTask({ argument: task, stdin: process.stdin }), ...options });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const flag = issue?.path[0] === 'task' ? 'task' : `--${String(issue?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new NexoraError('invalid-argument', `Invalid ${flag}: ${issue?.message ?? 'invalid value'}.`);
      }
      // Checked here too, so a usage error does not wait for the server, and a workspace that exposes
      // the host is refused before anything is started (no server, no store).
      checkExclusiveFlags(parsed.data);
      checkWorkspace(parsed.data.workspace);
      // The run happens in the server; this process streams it (see run-client.ts).
      const { runThroughServer } = await import('./run-client.js');
      const result = await runThroughServer(parsed.data);
      process.exitCode = result.outcome === 'completed' ? 0 : result.outcome === 'interrupted' ? 130 : 1;
    });
}
