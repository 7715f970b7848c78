import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseSessionId } from '../../store/session-id.js';
import * as z from '../flag-schemas.js';
import { parseOptions } from '../parse-options.js';

const exportOptions = z.strictObject({
  format: z.enum(['md', 'json', 'html'], { message: 'use md, json or html' }),
  out: z.optional(z.string().check(z.minLength(1))),
});

/** `nexora session export ID --format md|json [--out DIR]`, added to the `session` command. */
export function registerExportCommand(program: Command): void {
  const session = program.commands.find((command) => command.name() === 'session') ?? program.command('session');
  session
    .command('export <id>')
    .description('write a session\'s transcript (steps, tool calls, cost, take-overs) with its screenshots alongside')
    .option('--format <format>', 'md (readable), json (every event) or html (one self-contained page: transcript, screenshots, a scrubber)', 'md')
    .option('--out <dir>', 'the folder to write into (default: ./nexora-<id>)')
    .action(async (id: string, raw: unknown) => {
      const sessionId = parseSessionId(id);
      const options = parseOptions(exportOptions, raw);
      // The server owns the store: it writes the transcript where this command was asked to.
      const { withServer } = await import('./server-client.js');
      const outDir = resolve(options.out ?? `nexora-${sessionId}`);
      const written = await withServer((client) =>
        client.post<{ file: string; events: number; screenshots: number }>(`/v1/sessions/${sessionId}/export`, { format: options.format, outDir }, { timeoutMs: 300_000 }),
      );
      process.stdout.write(`Wrote ${written.file} (${written.events} events, ${written.screenshots} screenshots)\n`);
    });
}

