import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { nexoraPaths } from '../../paths.js';
import { EventStore, parseSessionId, SessionStore, type Db, type EventRecord } from '../../store/index.js';
import { renderTranscriptHtml } from '../../viewer/transcript-html.js';
import { renderTranscriptMarkdown } from '../../viewer/transcript-markdown.js';
import { openCliDatabase } from './db.js';
import { parseOptions } from './session.js';

const exportOptions = z.strictObject({
  format: z.enum(['md', 'json', 'html'], { message: 'use md, json or html' }),
  out: z.string().min(1).optional(),
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

/** Writes `<outDir>/transcript.{md,json}` and `<outDir>/screenshots/*.png`, or `<outDir>/transcript.html` with the screenshots inside. */
export async function exportTranscript(options: { sessionId: string; format: 'md' | 'json' | 'html'; outDir: string; db?: Db }): Promise<{ file: string; events: number; screenshots: number }> {
  const sessionId = parseSessionId(options.sessionId);
  const db = options.db ?? (await openCliDatabase());
  try {
    const session = await new SessionStore(db).get(sessionId);
    const store = new EventStore(db);
    const events: EventRecord[] = [];
    for (;;) {
      const page = await store.list(sessionId, { afterId: events.at(-1)?.id ?? 0, limit: 1000 });
      events.push(...page);
      if (page.length < 1000) break;
    }
    mkdirSync(options.outDir, { recursive: true });
    const source = join(nexoraPaths().screenshots, sessionId);
    let screenshots = 0;
    const embedded = new Map<string, Buffer>();
    for (const event of events) {
      const file = event.kind === 'screen-capture' ? (event.payload as { file?: unknown }).file : undefined;
      if (typeof file !== 'string' || !/^[A-Za-z0-9_.-]+\.png$/.test(file) || !existsSync(join(source, file))) continue;
      if (options.format === 'html') {
        embedded.set(file, readFileSync(join(source, file)));
        screenshots++;
        continue;
      }
      mkdirSync(join(options.outDir, 'screenshots'), { recursive: true });
      copyFileSync(join(source, file), join(options.outDir, 'screenshots', file));
      screenshots++;
    }
    const file = join(options.outDir, `transcript.${options.format}`);
    const header = { id: session.id, status: session.status, model: session.model, workspaceDir: session.workspaceDir, createdAt: session.createdAt, endedAt: session.endedAt };
    writeFileSync(
      file,
      options.format === 'json'
        ? `${JSON.stringify({ session: header, events }, null, 2)}\n`
        : options.format === 'html'
          ? renderTranscriptHtml({ session: header, events, screenshots: embedded })
          : renderTranscriptMarkdown({ session: header, events, screenshotsLink: 'screenshots' }),
    );
    return { file, events: events.length, screenshots };
  } finally {
    if (!options.db) await db.close();
  }
}
