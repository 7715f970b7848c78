import type { ContainerOwner } from './labels.js';
import type { NumericUser } from './workspace-owner.js';
import type { Workstation } from './workstation.js';

/**
 * Where workstations run: one Docker engine (`docker/`) or a Docker Swarm cluster (`swarm/`).
 * `sessions/` knows only this interface; the backend is chosen by configuration
 * (NEXORA_BACKEND, see src/sessions/session-config.ts).
 */

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | 'missing';

/**
 * What Nexora knows about one of its workstations, read back from the engine. `id` is what
 * the session record keeps: a container id on one engine, a service id on a swarm.
 */
export interface ManagedContainer {
  id: string;
  name: string;
  state: ContainerState;
  sessionId: string;
  poolKey: string | undefined;
  workspaceDir: string;
  vncPort: number;
  cdpPort: number;
  owner: ContainerOwner | undefined;
  labels: Record<string, string>;
  /** Docker's health, when the container runs. */
  health: 'starting' | 'healthy' | 'unhealthy' | 'none';
  createdAt: Date;
  /** The cluster node it runs on (swarm only). */
  node?: string;
  /** Where its VNC port is reached from this process, when not the backend's endpointHost. */
  vncHost?: string;
  /** Why it is not running, when the backend knows (e.g. its node is down). */
  detail?: string;
}

export interface CreateWorkstationOptions {
  sessionId: string;
  workspaceDir: string;
  user: NumericUser;
  vncPort: number;
  cdpPort: number;
  /**
   * How long the host waits for READY: the start script gets the same budget (less a
   * second, so its own verdict arrives first), so a loaded machine is not failed early.
   */
  startTimeoutMs?: number;
  startChromium?: boolean;
  poolKey?: string;
  signal?: AbortSignal;
}

/** A signal and a deadline for one short engine request. */
export interface EngineCallOptions {
  signal?: AbortSignal;
  /** Default 30 s: a paused or wedged engine fails the call instead of hanging it. */
  timeoutMs?: number;
}

export interface WaitReadyOptions {
  vncPort: number;
  vncPassword: string;
  timeoutMs: number;
  signal?: AbortSignal;
  skipVerdicts?: number;
}

export interface WorkstationBackend {
  /** `docker` or `swarm`, for messages and `doctor`. */
  readonly kind: 'docker' | 'swarm';
  readonly image: string;
  /** Where published ports are reached from this process by default. */
  readonly endpointHost: string;
  /** Fails with 'image-missing' (and how to get it) unless the image is where workstations run. */
  checkImage(options?: EngineCallOptions): Promise<void>;
  /** Creates and starts a workstation; when the start fails what was created is removed. */
  create(options: CreateWorkstationOptions): Promise<{ id: string; name: string; warnings: string[]; node?: string; vncHost?: string }>;
  /**
   * Gives the VNC server its password (never through the environment) and waits until the
   * start script says READY and VNC completes an authenticated handshake.
   */
  waitReady(id: string, options: WaitReadyOptions): Promise<void>;
  /** READY/FAILED lines already in the workstation's log (take it before a restart). */
  verdictsSoFar(id: string, options?: EngineCallOptions): Promise<number>;
  /** Waits for the VNC server only (after an unpause), with an authenticated handshake. */
  waitGreeting(options: { id: string; vncPort: number; vncPassword: string; timeoutMs: number; signal?: AbortSignal }): Promise<string>;
  workstation(container: ManagedContainer, vncPassword: string): Workstation;
  /** One managed workstation, or undefined when it does not exist (or is not Nexora's). */
  inspect(id: string, options?: EngineCallOptions): Promise<ManagedContainer | undefined>;
  /** Every workstation of this store (running or not). */
  list(options?: EngineCallOptions): Promise<ManagedContainer[]>;
  remove(id: string, options?: EngineCallOptions): Promise<void>;
  /** Stops it, killing it after `timeoutSeconds` (default 2). */
  stop(id: string, timeoutSeconds?: number, options?: EngineCallOptions): Promise<void>;
  start(id: string, options?: EngineCallOptions): Promise<void>;
  pause(id: string, options?: EngineCallOptions): Promise<void>;
  unpause(id: string, options?: EngineCallOptions): Promise<void>;
  /** Memory in use (cgroup usage minus page cache), in bytes. */
  memoryUsage(id: string, options?: EngineCallOptions): Promise<number>;
  /**
   * The engine's event stream of Nexora containers (die, oom, health_status), as JSON lines.
   * A swarm backend may cover only some nodes: the health monitor's sweep covers the rest.
   */
  events(options: { signal: AbortSignal }): Promise<NodeJS.ReadableStream>;
}
