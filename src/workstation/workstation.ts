import type { Readable, Writable } from 'node:stream';

/**
 * What the tools need from a session's workstation, independent of where it runs. The
 * Docker backend (`docker/`) is the one implementation today; a remote or VM backend would
 * implement the same interface.
 */

/** The RFB (VNC) server of a workstation, as seen from the Nexora process. */
export interface RfbEndpoint {
  host: string;
  port: number;
  /** The per-session VNC password (RFB auth type 2). Never log it. */
  password: string;
}

/**
 * The Chrome DevTools protocol endpoint of a workstation's browser. It listens on the
 * workstation's own loopback only and is never published: the host reaches it by a stream
 * (`attach` of `socat STDIO TCP:127.0.0.1:PORT`) behind a token (src/tools/browser/cdp-proxy.ts).
 */
export interface CdpEndpoint {
  /** The DevTools port on the workstation's loopback. */
  port: number;
  /** True when this call started Chromium; false when it was already running. */
  started: boolean;
}

export interface ExecOptions {
  /** A shell command line (run with `bash -c`) or an argv run without a shell. */
  cmd: string | readonly string[];
  /** `uid`, `uid:gid` or a user name; the workstation's own user when omitted. */
  user?: string;
  /** Working directory; `/workspace` when omitted. */
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** Kills the command's whole process group when it runs longer. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Output kept per stream; the rest is dropped and reported. Default 16 MiB. */
  maxOutputBytes?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** The command's exit code; 137 when it was killed. */
  exitCode: number;
  durationMs: number;
  /** True when `timeoutMs` elapsed and the process group was killed. */
  timedOut: boolean;
  /** True when the signal aborted the command and the process group was killed. */
  aborted: boolean;
  /** Bytes dropped because a stream went over `maxOutputBytes`. */
  droppedBytes: number;
}

/** A long-lived process in a workstation with its standard streams attached. */
export interface AttachedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Ends stdin and drops the connection; the process sees EOF. */
  close(): void;
}

export interface AttachOptions {
  cmd: readonly string[];
  /** The workstation's own user when omitted. */
  user?: string;
  /**
   * Runs the process as one of Nexora's helper uids instead of the workstation's user (then
   * `user` is ignored). `observer`: the terminal's observer (the tmux control client), with the
   * owner's group and `NEXORA_TERMINAL_UID` naming the owner's uid; out of reach of the
   * workstation's processes (no ptrace, no /proc descriptors).
   */
  helper?: 'observer';
  cwd?: string;
  env?: Readonly<Record<string, string>>;
  /** Aborts starting the process (not the process once started: close() ends that). */
  signal?: AbortSignal;
  /** Deadline for starting the process (default 30 s). */
  timeoutMs?: number;
}

export type WorkstationState = 'running' | 'paused' | 'stopped' | 'missing' | 'unhealthy';

export interface WorkstationStatus {
  state: WorkstationState;
  /** The start script reported READY and the container runs. */
  ready: boolean;
  /** Docker's own health status when a health check is configured. */
  health?: 'starting' | 'healthy' | 'unhealthy' | 'none';
  exitCode?: number;
  /** Why the workstation is not ready, for messages. */
  detail?: string;
}

export interface Workstation {
  /** The backend's identifier (the Docker container id). */
  readonly id: string;
  /** A human-readable name (the Docker container name). */
  readonly name: string;
  readonly sessionId: string;
  /** The host directory mounted at `/workspace`. */
  readonly workspaceDir: string;
  rfb(): RfbEndpoint;
  /**
   * Starts Chromium when it is not running (first use, or it died) and resolves once its
   * `/json/version` answers inside the workstation. Cheap when it already runs.
   */
  ensureBrowser(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<CdpEndpoint>;
  exec(options: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a process that stays up for the session with its streams attached: the tools'
   * tmux control client and command server use it.
   */
  attach(options: AttachOptions): Promise<AttachedProcess>;
  status(options?: { signal?: AbortSignal }): Promise<WorkstationStatus>;
}
