import { RfbClient } from '../rfb/index.js';
import type { AttachedProcess, Workstation } from '../workstation/workstation.js';
import { BrowserTools } from './browser/browser-tools.js';
import { ExecChannel, execServerSource } from './exec/exec-channel.js';
import { TmuxControl } from './terminal/tmux-control.js';
import { WorkstationTools, type WorkstationToolsOptions } from './workstation-tools.js';

/** What the tools need from a workstation: its VNC endpoint, long-lived processes in it, its browser. */
export type ToolHost = Pick<Workstation, 'rfb' | 'attach' | 'ensureBrowser'>;

export interface ConnectedTools {
  tools: WorkstationTools;
  rfb: RfbClient;
  /** Closes the RFB connection and ends the in-workstation helpers. */
  close(): void;
}

/**
 * Opens a session's three channels — one persistent RFB connection, one tmux control
 * client, one command server — and the tools over them.
 */
export async function connectTools(
  host: ToolHost,
  options: { signal?: AbortSignal; timeoutMs?: number } & Omit<WorkstationToolsOptions, 'rfb' | 'terminal' | 'commands'> = {},
): Promise<ConnectedTools> {
  const endpoint = host.rfb();
  const opened: { close(): void }[] = [];
  try {
    // allSettled, so a channel that opens after another failed is still closed.
    const settled = await Promise.allSettled([
      RfbClient.connect({
        host: endpoint.host,
        port: endpoint.port,
        password: endpoint.password,
        timeoutMs: options.timeoutMs ?? 10_000,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
      host.attach({ cmd: ['tmux', '-C', 'attach-session', '-t', 'main'], env: { LANG: 'C.UTF-8' } }),
      host.attach({ cmd: ['python3', '-c', execServerSource], cwd: '/', env: { LANG: 'C.UTF-8' } }),
    ] as const);
    for (const outcome of settled) if (outcome.status === 'fulfilled') opened.push(outcome.value);
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const [rfb, tmuxProcess, serverProcess] = settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as [
      RfbClient,
      AttachedProcess,
      AttachedProcess,
    ];
    const terminal = new TmuxControl({ stdin: tmuxProcess.stdin, stdout: tmuxProcess.stdout });
    // Pane output notifications are not needed: changes are seen through the framebuffer.
    await terminal.command('refresh-client -f no-output');
    const commands = new ExecChannel({ stdin: serverProcess.stdin, stdout: serverProcess.stdout });
    await commands.waitReady(options.timeoutMs ?? 10_000);
    // Nothing of the browser runs until a browser tool is first used.
    const browser = new BrowserTools({ host });
    opened.push(browser);
    const tools = new WorkstationTools({
      rfb,
      browser,
      terminal,
      commands,
      ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
      ...(options.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: options.defaultTimeoutMs } : {}),
    });
    return {
      tools,
      rfb,
      close: () => {
        for (const item of opened.reverse()) item.close();
      },
    };
  } catch (error) {
    for (const item of opened.reverse()) item.close();
    throw error;
  }
}
