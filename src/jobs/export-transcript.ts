import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { SafeDirectory } from '../safe-file/index.js';
import { EventStore, parseSessionId, SessionStore, type Db, type EventRecord } from '../store/index.js';
import { renderTranscriptHtml } from '../viewer/transcript-html.js';
import { renderTranscriptMarkdown } from '../viewer/transcript-markdown.js';
import { openJobDatabase } from './job-store.js';

/**
 * Writes `<outDir>/transcript.{md,json}` and `<outDir>/screenshots/*.png`, or `<outDir>/transcript.html`
 * with the screenshots inside. The out directory is often a workspace (untrusted): everything in it
 * is written through safe-file, so a planted link (`transcript.md -> ~/.bashrc`) is replaced, never
 * written through, and a linked `screenshots/` is refused.
 */
export async function exportTranscript(options: { sessionId: string; format: 'md' | 'json' | 'html'; outDir: string; db?: Db }): Promise<{ file: string; events: number; screenshots: number }> {
  const sessionId = parseSessionId(options.sessionId);
  const db = options.db ?? (await openJobDatabase());
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
    const out = await SafeDirectory.open({ root: options.outDir });
    if (!out) throw new NexoraError('filesystem-failed', `Cannot open ${options.outDir} to write the transcript.`);
    try {
      const source = join(nexoraPaths().screenshots, sessionId);
      let screenshots = 0;
      const embedded = new Map<string, Buffer>();
      let screenshotsDir: SafeDirectory | undefined;
      try {
        for (const event of events) {
          const file = event.kind === 'screen-capture' ? (event.payload as { file?: unknown }).file : undefined;
          if (typeof file !== 'string' || !/^[A-Za-z0-9_.-]+\.png$/.test(file) || !existsSync(join(source, file))) continue;
          // The screenshots are the Nexora home's own files; only where they go is untrusted.
          const png = readFileSync(join(source, file));
          if (options.format === 'html') embedded.set(file, png);
          else {
            screenshotsDir ??= await out.directory('screenshots', { create: true });
            await screenshotsDir?.writeFile(file, png, { mode: 0o644 });
          }
          screenshots++;
        }
      } finally {
        await screenshotsDir?.close();
      }
      const name = `transcript.${options.format}`;
      const header = { id: session.id, status: session.status, model: session.model, workspaceDir: session.workspaceDir, createdAt: session.createdAt, endedAt: session.endedAt };
      await out.writeFile(
        name,
        options.format === 'json'
          ? `${JSON.stringify({ session: header, events }, null, 2)}\n`
          : options.format === 'html'
            ? renderTranscriptHtml({ session: header, events, screenshots: embedded })
            : renderTranscriptMarkdown({ session: header, events, screenshotsLink: 'screenshots' }),
        { mode: 0o644 },
      );
      return { file: join(options.outDir, name), events: events.length, screenshots };
    } finally {
      await out.close();
    }
  } finally {
    if (!options.db) await db.close();
  }
}
