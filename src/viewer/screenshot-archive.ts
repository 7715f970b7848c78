import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VisualTools } from '../tools/types.js';

export interface SavedScreenshot {
  /** The file name inside the session's folder (what `screen-capture` events name). */
  file: string;
  path: string;
}

/**
 * One session's screenshots on disk (`<root>/<sessionId>/<time>-<n>.png`), so transcripts
 * can show what the agent saw. A frame identical to the previous one is not written twice.
 */
export class ScreenshotArchive {
  readonly dir: string;
  private count = 0;
  private lastHash = '';

  constructor(private readonly options: { root: string; sessionId: string; onSaved?: (saved: SavedScreenshot & { width: number; height: number }) => Promise<void> | void }) {
    this.dir = join(options.root, options.sessionId);
  }

  async save(png: Buffer, size: { width: number; height: number }, options: { force?: boolean } = {}): Promise<SavedScreenshot> {
    const hash = createHash('sha256').update(png).digest('hex');
    const file = `${new Date().toISOString().replace(/[:.]/g, '-')}-${++this.count}.png`;
    const saved = { file, path: join(this.dir, file) };
    if (hash === this.lastHash && !options.force) return saved;
    this.lastHash = hash;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(saved.path, png, { mode: 0o600 });
    await this.options.onSaved?.({ ...saved, ...size });
    return saved;
  }
}

/** The same tools with every PNG that screen() returns kept in `archive`. */
export function archivingTools(tools: VisualTools, archive: ScreenshotArchive): VisualTools {
  return {
    ...(tools.browser ? { browser: tools.browser } : {}),
    ...(tools.setImageSize ? { setImageSize: (size) => tools.setImageSize?.(size) } : {}),
    // Read-only looks the approval policy takes before an Enter or a click: not held, not archived.
    ...(tools.promptLine ? { promptLine: (options) => tools.promptLine!(options) } : {}),
    ...(tools.displayWindows ? { displayWindows: (options) => tools.displayWindows!(options) } : {}),
    screen: async (options) => {
      const result = await tools.screen(options);
      // The archive is a record: a full disk must not fail the agent's look at the screen.
      // The PNG's own size: scaled for the model, it is smaller than the display.
      const size = { width: result.image?.width ?? result.width, height: result.image?.height ?? result.height };
      if (result.png) await archive.save(result.png, size).catch(() => undefined);
      return result;
    },
    keyboard: (options) => tools.keyboard(options),
    mouse: (options) => tools.mouse(options),
    execute: (command, options) => tools.execute(command, options),
  };
}
