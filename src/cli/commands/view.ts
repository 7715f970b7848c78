import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config/load-config.js';
import { nexoraPaths } from '../../paths.js';
import { openSessionManager } from '../../sessions/open-session-manager.js';
import { parseSessionId } from '../../store/index.js';
import { openInBrowser } from '../../viewer/open-browser.js';
import { sessionViewerBackend } from '../../viewer/session-backend.js';
import { startViewerServer } from '../../viewer/viewer-server.js';
import { openCliDatabase } from './db.js';
import { parseOptions } from './session.js';

const viewOptions = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).optional(),
  open: z.boolean().optional(),
});

/** `nexora view [SESSION]`: the live web view of a session's workstation and transcript. */
export function registerViewCommand(program: Command): void {
  program
    .command('view [session]')
    .description('open the live web view: watch a workstation, read its transcript, take control (127.0.0.1 only, token in the URL)')
    .option('--port <port>', 'the local port to listen on (default: any free port)')
    .option('--no-open', 'print the address instead of opening a browser')
    .action(async (session: string | undefined, raw: unknown) => {
      const options = parseOptions(viewOptions, raw);
      const sessionId = session !== undefined ? parseSessionId(session) : undefined;
      const db = await openCliDatabase();
      const opened = await openSessionManager({ db }).catch(async (error: unknown) => {
        await db.close();
        throw error;
      });
      try {
        const manager = opened.manager;
        if (sessionId !== undefined) await manager.sessions.get(sessionId);
        // The user's own config only: whether typed text is stored is not a workspace's choice.
        const { config } = await loadConfig();
        const server = await startViewerServer({
          backend: sessionViewerBackend(manager, { screenshotsRoot: nexoraPaths().screenshots }),
          recordTypedText: config.viewer.recordTypedText,
          ...(options.port !== undefined ? { port: options.port } : {}),
        });
        const url = sessionId !== undefined ? server.sessionUrl(sessionId) : server.url;
        process.stdout.write(`Web view: ${url}\n(keep this address private: it carries the access token. Ctrl+C stops the server.)\n`);
        if (options.open !== false && !(await openInBrowser({ url, launcherDir: nexoraPaths().viewLaunchers }))) process.stdout.write('Could not open a browser here: open the address above yourself.\n');
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
      } finally {
        await opened.close();
        await db.close();
      }
    });
}
