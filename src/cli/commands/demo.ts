import { resolve } from 'node:path';
import type { Command } from 'commander';
import { checkWorkspace } from '../../config/workspace-guard.js';
import type { DemoOptions } from '../../jobs/demo.js';
import { readReplayScript } from '../../jobs/replay-script-file.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('a scripted demonstration (no LLM): start a workstation, type into it, read it back, edit a file in vi, run it')
    .option('--workspace <dir>', 'the project directory to mount at /workspace (default: a new one under ~/.nexora/demo)')
    .option('--out <dir>', 'where to save the screenshots (default: ~/.nexora/screenshots/demo-<time>)')
    .option('--quick', 'only the first part: type a greeting, read it back, save a screenshot')
    .option('--keep', 'keep the session running at the end (resume it with `nexora session resume`)')
    .option('--script <file>', 'perform a scripted run instead (`nexora session replay ID --export script` writes one), reporting where results differ from the recording')
    .action(async (options: DemoOptions) => {
      // The demo runs in the server (which owns the store and the workstations); its log streams back.
      const { jobThroughServer } = await import('./job-client.js');
      const request = {
        ...options,
        // A workspace that exposes the host is refused here, before a server is started for it.
        ...(options.workspace !== undefined ? { workspace: checkWorkspace(options.workspace) } : {}),
        ...(options.out !== undefined ? { out: resolve(options.out) } : {}),
        ...(options.script !== undefined ? { script: resolve(options.script) } : {}),
      };
      if (request.script !== undefined) await readReplayScript(request.script);
      process.exitCode = (await jobThroughServer('demo', request)).exitCode;
    });
}
