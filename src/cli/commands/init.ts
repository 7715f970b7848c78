import { resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { InitOptions } from '../../jobs/init-project.js';
import { parseOptions } from '../parse-options.js';

const initOptions = z.strictObject({
  workspace: z.string().min(1),
  force: z.boolean().optional(),
  template: z.boolean().optional(),
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
}) satisfies z.ZodType<InitOptions>;

/** `nexora init`: a starter AGENTS.md for the project. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a starter AGENTS.md (instructions the agent reads) after looking at the project')
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--template', 'write the plain template without asking a model')
    .option('--model <provider/model>', 'the model that writes it (default: "model" in nexora.json)')
    .option('--force', 'replace an existing AGENTS.md')
    .action(async (raw: unknown) => {
      const options = parseOptions(initOptions, raw);
      // Asking the model needs the stored keys: the server, which owns the store, writes the file.
      const { jobThroughServer } = await import('./job-client.js');
      const { result } = await jobThroughServer('init', { ...options, workspace: resolve(options.workspace) });
      const written = result as { file: string; how: string };
      process.stdout.write(`Wrote ${written.file} (${written.how}). Read it, fix what is wrong, and commit it: the agent reads it at the start of every task.\n`);
    });
}
