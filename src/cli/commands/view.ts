import type { Command } from 'commander';
import { z } from 'zod';
import { nexoraPaths } from '../../paths.js';
import { parseOptions } from '../parse-options.js';
import { withServer } from './server-client.js';

const viewOptions = z.strictObject({
  open: z.boolean().optional(),
});

const sessionIdText = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'is not a session id: `nexora session list` shows them');

/** `nexora view [SESSION]`: the live web view, served by the Nexora server. */
export function registerViewCommand(program: Command): void {
  program
    .command('view [session]')
    .description('open the live web view: watch a workstation, read its transcript, take control (127.0.0.1 only, token in the URL)')
    .option('--no-open', 'print the address instead of opening a browser')
    .action(async (session: string | undefined, raw: unknown) => {
      const options = parseOptions(viewOptions, raw);
      const sessionId = session !== undefined ? parseOptions(z.object({ session: sessionIdText }), { session }).session : undefined;
      await withServer(async (client) => {
        if (sessionId !== undefined) await client.get(`/v1/sessions/${sessionId}`);
        const { url } = await client.get<{ url: string }>(`/v1/view${sessionId !== undefined ? `?session=${sessionId}` : ''}`, { timeoutMs: 120_000 });
        process.stdout.write(`Web view: ${url}\n(keep this address private: it carries the access token. The Nexora server serves it until \`nexora server stop\`.)\n`);
        if (options.open !== false) {
          const { openInBrowser } = await import('../../viewer/open-browser.js');
          if (!(await openInBrowser({ url, launcherDir: nexoraPaths().viewLaunchers }))) process.stdout.write('Could not open a browser here: open the address above yourself.\n');
        }
      });
    });
}
