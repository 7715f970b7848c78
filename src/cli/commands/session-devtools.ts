import type { Command } from 'commander';
import { NexoraError } from '../../errors.js';
import { parseSessionId } from '../../store/session-id.js';
import { StepPrinter } from '../../output/step-printer.js';
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
        // The request lasts until Ctrl+C: the server serves the DevTools only while it is open,
        // so a terminal closed or a process killed leaves nothing served.
        const held = new AbortController();
        const stop = (): void => held.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        let announce: () => void = () => undefined;
        const ready = new Promise<void>((resolve) => (announce = resolve));
        const serving = client.stream(
          'POST',
          `/v1/sessions/${sessionId}/devtools`,
          {},
          ({ event, data }) => {
            if (event !== 'ready') return;
            const served = data as { url: string; port: number };
            announce();
            process.stdout.write(
              [
                `DevTools of session ${sessionId} on 127.0.0.1:${served.port} (the token is part of every URL; keep it private):`,
                `  targets:   ${served.url}/json/list`,
                `  Playwright: chromium.connectOverCDP('${served.url}/json/version' → webSocketDebuggerUrl)`,
                'Press Ctrl+C to stop.',
                '',
              ].join('\n'),
            );
          },
          { signal: held.signal },
        );
        const ended = serving.then(() => {
          throw new NexoraError('server-unavailable', 'The server stopped serving the DevTools: it stopped, or the session ended.');
        });
        try {
          await printer.step('starting Chromium in the workstation', () => Promise.race([ready, ended]));
          await ended;
        } catch (error) {
          // Ctrl+C is the normal end; anything else is a failure to report.
          if (!held.signal.aborted) throw error;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      });
    });
}
