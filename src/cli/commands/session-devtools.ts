import type { Command } from 'commander';
import { CdpProxy } from '../../tools/browser/cdp-proxy.js';
import { StepPrinter } from '../output.js';
import { parseSessionId } from '../../store/index.js';
import type { OpenedSessionManager } from '../../sessions/open-session-manager.js';

/**
 * `nexora session devtools <id>`: the one way a person reaches a session's browser DevTools.
 * The port is never published; this serves it on 127.0.0.1 (the session's reserved CDP port,
 * or any free one) behind a random token, through a stream over the Engine API, until Ctrl+C.
 */
export function registerSessionDevtools(
  session: Command,
  withSessionManager: <T>(printer: StepPrinter, run: (opened: OpenedSessionManager) => Promise<T>) => Promise<T>,
): void {
  session
    .command('devtools <id>')
    .description("serve the session's Chromium DevTools on 127.0.0.1 behind a token until Ctrl+C (starts Chromium if needed)")
    .action(async (id: string) => {
      const sessionId = parseSessionId(id);
      const printer = new StepPrinter();
      const { workstation, port } = await withSessionManager(printer, async ({ manager }) => ({
        workstation: await manager.workstation(sessionId),
        port: (await manager.getContainer(sessionId))?.cdpPort ?? 0,
      }));
      const endpoint = await printer.step('starting Chromium in the workstation', () => workstation.ensureBrowser({ timeoutMs: 60_000 }));
      const openStream = (): ReturnType<typeof workstation.attach> => workstation.attach({ cmd: ['socat', 'STDIO', `TCP:127.0.0.1:${endpoint.port}`], cwd: '/' });
      const proxy = await CdpProxy.start({ openStream, port }).catch(() => CdpProxy.start({ openStream }));
      process.stdout.write(
        [
          `DevTools of session ${sessionId} on 127.0.0.1:${proxy.port} (the token is part of every URL; keep it private):`,
          `  targets:   ${proxy.httpUrl}/json/list`,
          `  Playwright: chromium.connectOverCDP('${proxy.httpUrl}/json/version' → webSocketDebuggerUrl)`,
          'Press Ctrl+C to stop.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      proxy.close();
    });
}
