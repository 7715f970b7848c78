import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import type { AttachedProcess, AttachOptions, CdpEndpoint, ExecOptions, ExecResult, RfbEndpoint, Workstation, WorkstationStatus } from '../workstation.js';
import { attachExec } from './attached-exec.js';
import { execInContainer } from './exec.js';
import { STATUS_FILE } from './readiness.js';
import { HELPER_ENV } from './vnc-password-file.js';
import { observerExecUser } from '../helper-users.js';
import { parseNumericUser } from '../workspace-owner.js';

export interface DockerWorkstationOptions {
  docker: Docker;
  id: string;
  name: string;
  sessionId: string;
  workspaceDir: string;
  /** Where the published ports are reached from this process. */
  endpointHost: string;
  vncPort: number;
  cdpPort: number;
  vncPassword: string;
  /** The numeric user commands run as by default. */
  user: string;
}

/** READY in the status file and the tmux session alive: what Docker's health check runs too. */
export const HEALTH_SCRIPT = `cat ${STATUS_FILE} && tmux has-session -t main 2>/dev/null`;

/** A session's workstation in a Docker container. */
export class DockerWorkstation implements Workstation {
  readonly id: string;
  readonly name: string;
  readonly sessionId: string;
  readonly workspaceDir: string;
  private readonly docker: Docker;
  private readonly options: DockerWorkstationOptions;
  private browserStart: Promise<CdpEndpoint> | undefined;

  constructor(options: DockerWorkstationOptions) {
    this.docker = options.docker;
    this.id = options.id;
    this.name = options.name;
    this.sessionId = options.sessionId;
    this.workspaceDir = options.workspaceDir;
    this.options = options;
  }

  rfb(): RfbEndpoint {
    return { host: this.options.endpointHost, port: this.options.vncPort, password: this.options.vncPassword };
  }

  exec(options: ExecOptions): Promise<ExecResult> {
    return execInContainer(this.docker, this.id, { user: this.options.user, ...options });
  }

  attach(options: AttachOptions): Promise<AttachedProcess> {
    if (options.helper === 'observer') return attachExec(this.docker, this.id, { ...options, ...observerOf(this.options.user, options.env) });
    return attachExec(this.docker, this.id, { user: this.options.user, ...options });
  }

  /**
   * Chromium costs ≈180 MiB (inside the container's memory limit), so it starts on the first
   * browser tool call, and again after it died. Concurrent callers share one start.
   */
  ensureBrowser(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CdpEndpoint> {
    this.browserStart ??= this.startBrowser(options).finally(() => {
      this.browserStart = undefined;
    });
    return this.browserStart;
  }

  private async startBrowser(options: { timeoutMs?: number; signal?: AbortSignal }): Promise<CdpEndpoint> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const result = await this.exec({
      cmd: ['/opt/nexora/start-chromium.sh'],
      cwd: '/',
      env: { NEXORA_START_TIMEOUT: String(Math.max(1, Math.floor(timeoutMs / 1000) - 1)) },
      timeoutMs,
      maxOutputBytes: 64 * 1024,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const answer = /^(started|running) 127\.0\.0\.1:(\d{1,5})$/m.exec(result.stdout);
    if (result.exitCode !== 0 || !answer) {
      throw new NexoraError(
        'cdp-failed',
        `Chromium did not start in workstation ${this.name} (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${(result.stderr || result.stdout).trim().slice(-500)}`,
      );
    }
    return { port: Number(answer[2]), started: answer[1] === 'started' };
  }

  async status(options: { signal?: AbortSignal } = {}): Promise<WorkstationStatus> {
    let info;
    try {
      const deadline = AbortSignal.timeout(10_000);
      info = await this.docker.getContainer(this.id).inspect({ abortSignal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline });
    } catch (error) {
      return { state: 'missing', ready: false, detail: describeError(error) };
    }
    const health = (info.State.Health?.Status ?? 'none') as WorkstationStatus['health'];
    if (info.State.Paused) return { state: 'paused', ready: false, health, detail: 'paused (warm pool)' };
    if (!info.State.Running) return { state: 'stopped', ready: false, health, exitCode: info.State.ExitCode, detail: `exited with ${info.State.ExitCode}` };
    // Checked here rather than trusted from Docker's health flag, which lags: a container that
    // was paused (the warm pool) reads unhealthy until the next probe after it wakes.
    const probe = await this.exec({ cmd: ['sh', '-c', HEALTH_SCRIPT], cwd: '/', timeoutMs: 5000, ...(options.signal ? { signal: options.signal } : {}) }).catch(() => undefined);
    const line = probe?.stdout.trim() ?? '';
    const ready = probe?.exitCode === 0 && line.startsWith('READY');
    if (ready) return { state: 'running', ready, health };
    return { state: health === 'unhealthy' || line.startsWith('READY') ? 'unhealthy' : 'running', ready, health, detail: line || 'no status yet' };
  }
}

/** The exec user and environment of the terminal's observer for a workstation running as `user` (`uid:gid`). */
function observerOf(user: string, env: Readonly<Record<string, string>> | undefined): { user: string; env: Record<string, string> } {
  const owner = parseNumericUser(user);
  return { user: observerExecUser(owner), env: { ...env, ...HELPER_ENV, NEXORA_TERMINAL_UID: String(owner.uid) } };
}
