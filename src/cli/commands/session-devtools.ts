import type { Command } from 'commander';
import { parseSessionId } from '../../store/session-id.js';
import { StepPrinter } from '../output.js';
import { withServer } from './server-client.js';

/**
 * `nexora session devtools <id>`: the one way a person reaches a session's browser DevTools.
 * The port is never published; the server serves it on 127.0.0.1 (the session's reserved CDP
 * port, or any free one) behind a random token, through a stream over the Engine API, until
 * Ctrl+C here (or the session ends).
 */
export function registerSessionDevtools(session: Command): void {
  session
    .command('devtools <id>')
    .description("serve the session's Chromium DevTools on 127.0.0.1 behind a token until Ctrl+C (starts Chromium if needed)")
    .action(async (id: string) => {
      const sessionId = parseSessionId(id);
      const printer = new StepPrinter();
      await withServer(async (client) => {
        const served = await printer.step('starting Chromium in the workstation', () =>
          client.post<{ url: string; port: number }>(`/v1/sessions/${sessionId}/devtools`, {}, { timeoutMs: 90_000 }),
        );
        process.stdout.write(
          [
            `DevTools of session ${sessionId} on 127.0.0.1:${served.port} (the token is part of every URL; keep it private):`,
            `  targets:   ${served.url}/json/list`,
            `  Playwright: chromium.connectOverCDP('${served.url}/json/version' → webSocketDebuggerUrl)`,
            'Press Ctrl+C to stop.',
            '',
          ].join('\n'),
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await client.delete(`/v1/sessions/${sessionId}/devtools`).catch(() => undefined);
      });
    });
}
