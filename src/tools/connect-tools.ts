import { RfbClient } from '../rfb/index.js';
import type { AttachedProcess, Workstation } from '../workstation/workstation.js';
import { BrowserTools } from './browser/browser-tools.js';
import { ExecChannel, execServerCommand } from './exec/exec-channel.js';
import { TmuxControl } from './terminal/tmux-control.js';
import { WorkstationTools, type WorkstationToolsOptions } from './workstation-tools.js';

/** What the tools need from a workstation: its VNC endpoint, long-lived processes in it, its browser. */
export type ToolHost = Pick<Workstation, 'rfb' | 'attach' | 'ensureBrowser'>;

export interface ConnectedTools {
  tools: WorkstationTools;
  rfb: RfbClient;
  /** The tmux control channel and the command channel under the tools (diagnostics, tests). */
  terminal: TmuxControl;
  commands: ExecChannel;
  browser: BrowserTools;
  /** Closes the RFB connection and ends the in-workstation helpers. */
  close(): void;
}

export interface ConnectToolsOptions extends Omit<WorkstationToolsOptions, 'rfb' | 'terminal' | 'commands'> {
  signal?: AbortSignal;
  /** Deadline for opening each channel, and of one tmux command (default 10 s). */
  timeoutMs?: number;
  /** Time on top of a command's own timeout for the command server's reply (default 10 s). */
  replyGraceMs?: number;
}

/** Bytes of a helper's stderr kept (its tail), so a process writing there cannot fill the host. */
const stderrKept = 8 * 1024;

/**
 * Starts a helper process and keeps reading its stderr, keeping only a bounded tail: an
 * unread stderr would buffer without limit on the host.
 */
async function startHelper(host: ToolHost, options: { cmd: readonly string[]; helper?: 'observer'; cwd?: string; signal?: AbortSignal; timeoutMs: number }): Promise<AttachedProcess> {
  const helper = await host.attach({
    cmd: options.cmd,
    ...(options.helper ? { helper: options.helper } : {}),
    env: { LANG: 'C.UTF-8' },
    timeoutMs: options.timeoutMs,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let tail = '';
  helper.stderr.setEncoding('utf8');
  helper.stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-stderrKept);
  });
  helper.stderr.on('error', () => undefined);
  return helper;
}

/**
 * Opens a session's three channels — one persistent RFB connection, one tmux control
 * client, one command server — and the tools over them. The tmux client and the command
 * server are restarted by their channels when they break (closed, stopped, flooded).
 */
export async function connectTools(host: ToolHost, options: ConnectToolsOptions = {}): Promise<ConnectedTools> {
  const endpoint = host.rfb();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const terminal = new TmuxControl({
    // Under the observer's uid, out of reach of the workstation's processes (ptrace, /proc).
    open: ({ signal }) => startHelper(host, { cmd: ['/opt/nexora/observe-terminal.sh'], helper: 'observer', timeoutMs, ...(signal ? { signal } : {}) }),
    timeoutMs,
  });
  const commands = new ExecChannel({
    open: ({ signal }) => startHelper(host, { cmd: execServerCommand, cwd: '/', timeoutMs, ...(signal ? { signal } : {}) }),
    readyTimeoutMs: timeoutMs,
    ...(options.replyGraceMs !== undefined ? { replyGraceMs: options.replyGraceMs } : {}),
  });
  const opened: { close(): void }[] = [terminal, commands];
  try {
    // allSettled, so a channel that opens after another failed is still closed.
    const signal = options.signal;
    const settled = await Promise.allSettled([
      RfbClient.connect({ host: endpoint.host, port: endpoint.port, password: endpoint.password, timeoutMs, ...(signal ? { signal } : {}) }),
      terminal.connect(signal ? { signal } : {}),
      commands.waitReady(signal ? { signal } : {}),
    ] as const);
    const [rfbOutcome] = settled;
    if (rfbOutcome.status === 'fulfilled') opened.push(rfbOutcome.value);
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const rfb = (rfbOutcome as PromiseFulfilledResult<RfbClient>).value;
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
      ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
    });
    return {
      tools,
      rfb,
      terminal,
      commands,
      browser,
      close: () => {
        for (const item of opened.reverse()) item.close();
      },
    };
  } catch (error) {
    for (const item of opened.reverse()) item.close();
    throw error;
  }
}

/**
 * Tools of their own (their own screen baseline, image size and settling state) over channels
 * another owner keeps open (the server's, one set per session): closing them leaves the
 * channels open.
 */
export function attachTools(shared: ConnectedTools, options: Pick<ConnectToolsOptions, 'maxOutputBytes' | 'defaultTimeoutMs' | 'imageSize'> = {}): ConnectedTools {
  const tools = new WorkstationTools({
    rfb: shared.rfb,
    browser: shared.browser,
    terminal: shared.terminal,
    commands: shared.commands,
    // Another caller of the same channels waits at the same gate.
    ...(shared.tools.inputHold ? { inputHold: shared.tools.inputHold } : {}),
    ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
    ...(options.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: options.defaultTimeoutMs } : {}),
    ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
  });
  return { ...shared, tools, close: () => undefined };
}
