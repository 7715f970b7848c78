import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseSessionId } from '../../store/session-id.js';
import * as z from '../flag-schemas.js';
import { parseOptions } from '../parse-options.js';

const replayOptions = z.strictObject({
  export: z.optional(z.enum(['script'], { message: 'the only export is "script"' })),
  out: z.optional(z.string().check(z.minLength(1))),
  keep: z.optional(z.boolean()),
});

/** `nexora session replay ID [--export script --out FILE]`, added to the `session` command. */
export function registerReplayCommand(program: Command): void {
  const session = program.commands.find((command) => command.name() === 'session') ?? program.command('session');
  session
    .command('replay <id>')
    .description("perform a recorded session's tool calls again on a fresh workstation (no model) and report where the screen or a result differs")
    .option('--export <form>', 'instead of replaying, write the session as a script that `nexora demo --script FILE` performs ("script")')
    .option('--out <file>', 'where --export writes (default: ./nexora-<id>.script.json)')
    .option('--keep', 'keep the replay\'s workstation and workspace copy afterwards')
    .action(async (id: string, raw: unknown) => {
      const sessionId = parseSessionId(id);
      const options = parseOptions(replayOptions, raw);
      // Both run in the server, which owns the store and the workstations.
      const { jobThroughServer } = await import('./job-client.js');
      if (options.export === 'script') {
        const { result } = await jobThroughServer('replay-export', { sessionId, file: resolve(options.out ?? `nexora-${sessionId}.script.json`) });
        const written = result as { file: string; steps: number };
        process.stdout.write(`Wrote ${written.file} (${written.steps} steps): perform it with \`nexora demo --script ${written.file}\`\n`);
        return;
      }
      process.exitCode = (await jobThroughServer('replay', { sessionId, keep: options.keep === true })).exitCode;
    });
}

