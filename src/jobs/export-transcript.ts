import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nexoraPaths } from '../paths.js';
import { EventStore, parseSessionId, SessionStore, type Db, type EventRecord } from '../store/index.js';
import { renderTranscriptHtml } from '../viewer/transcript-html.js';
import { renderTranscriptMarkdown } from '../viewer/transcript-markdown.js';
import { openJobDatabase } from './job-store.js';

/** Writes `<outDir>/transcript.{md,json}` and `<outDir>/screenshots/*.png`, or `<outDir>/transcript.html` with the screenshots inside. */
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
