import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { planGitProtection } from '../workspace-git-layout.js';
import { buildContainerSpec, workstationSpecOptions } from './container-spec.js';
import { verifyGitMounts } from './mount-check.js';
import { DEFAULT_LIMITS, type WorkstationLimits, type WorkstationNetworkKind } from '../workstation-resources.js';
import { DockerWorkstation } from './docker-workstation.js';
import { LABELS, ownerFromLabels, type ContainerOwner } from '../labels.js';
import { egressWarning, ensureNetwork, networkName } from './networks.js';
import { countVerdicts, waitForRfbGreeting, waitForStatusReady } from './readiness.js';
import { settleBefore } from '../../settle-before.js';
import { inspectImage } from './engine-requests.js';
import { callSignal } from '../engine-call.js';
import { writeVncPassword } from './vnc-password-file.js';
import type { ContainerState, CreateWorkstationOptions, EngineCallOptions, ManagedContainer, WaitReadyOptions, WorkstationBackend } from '../backend.js';

export type { ContainerState, CreateWorkstationOptions, EngineCallOptions, ManagedContainer } from '../backend.js';

export interface DockerBackendOptions {
  docker: Docker;
  image: string;
  owner: ContainerOwner;
  /** Container names are `<prefix>-<session id>`. */
  namePrefix?: string;
  /** Extra labels on every container (tests add `dev.nexora.test=1`). */
  labels?: Readonly<Record<string, string>>;
  /** The address published ports are reached at from this process. */
  endpointHost?: string;
  network?: WorkstationNetworkKind;
  /** Overrides the network's name (tests use their own). */
  networkName?: string;
  limits?: Partial<WorkstationLimits>;
  geometry?: string;
}

/**
 * Workstation containers on one Docker engine: create, start, wait, pause, stop, remove
 * and list, all through the Engine API.
 */
export class DockerBackend implements WorkstationBackend {
  readonly kind = 'docker' as const;
  readonly docker: Docker;
  readonly image: string;
  readonly owner: ContainerOwner;
  readonly endpointHost: string;
  private readonly options: DockerBackendOptions;
  private readonly limits: WorkstationLimits;
  private imageChecked = false;
  private egressWarned = false;

  constructor(options: DockerBackendOptions) {
    this.docker = options.docker;
    this.image = options.image;
    this.owner = options.owner;
    this.endpointHost = options.endpointHost ?? '127.0.0.1';
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  containerName(sessionId: string): string {
    return `${this.options.namePrefix ?? 'nexora'}-${sessionId}`;
  }

  /** Fails with 'image-missing' (and how to build it) unless the engine has the image. */
  async checkImage(options: EngineCallOptions = {}): Promise<void> {
    if (this.imageChecked) return;
    try {
      await inspectImage(this.docker, this.image, callSignal(options));
      this.imageChecked = true;
    } catch (error) {
      if (isNotFound(error)) {
        throw new NexoraError('image-missing', `The workstation image ${this.image} is not built yet: build it with \`nexora image build\` (about a minute), then try again.`, { cause: error });
      }
      throw dockerError(`inspect the image ${this.image}`, error);
    }
  }

  /** Creates and starts a container; when the start fails the created container is removed. */
  async create(options: CreateWorkstationOptions): Promise<{ id: string; name: string; warnings: string[] }> {
    const kind = this.options.network ?? 'bridge';
    const network = this.options.networkName ?? networkName(kind);
    const ensuring = ensureNetwork(this.docker, {
      kind,
      name: network,
      ...(this.options.labels ? { labels: this.options.labels } : {}),
    });
    // The network is made once for all concurrent starts (each request with its own deadline):
    // a cancelled start stops waiting for it, without failing the others.
    let ensured;
    try {
      ensured = await (options.signal ? settleBefore(ensuring, options.signal) : ensuring);
    } catch (error) {
      throw dockerError(`set up the network ${network}`, error);
    }
    // Once per backend: the same gap on every start would drown the other progress lines (doctor keeps saying it).
    const warning = this.egressWarned ? undefined : egressWarning(network, ensured.hostGuard);
    if (warning) this.egressWarned = true;
    const warnings = warning ? [warning] : [];
    const name = this.containerName(options.sessionId);
    const gitPlan = planGitProtection(options.workspaceDir);
    const spec = buildContainerSpec({
      ...workstationSpecOptions(name, options, { image: this.image, geometry: this.options.geometry, limits: this.limits, owner: this.owner, labels: this.options.labels }),
      network,
      gitPlan,
    });
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({ ...spec, abortSignal: callSignal({ signal: options.signal }) });
    } catch (error) {
      throw dockerError(`create the workstation container ${name}`, error);
    }
    try {
      await container.start({ abortSignal: callSignal({ signal: options.signal }) });
    } catch (error) {
      await this.remove(container.id).catch(() => undefined);
      throw dockerError(`start the workstation container ${name}`, error);
    }
    try {
      await verifyGitMounts(this.docker, container.id, gitPlan, { timeoutMs: 30_000, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      // A host path may be mounted in it: it never serves a session.
      await this.remove(container.id).catch(() => undefined);
      throw error;
    }
    return { id: container.id, name, warnings };
  }

  /**
   * Gives the VNC server its password (through an exec's stdin, never the environment), then
   * waits until the start script says READY and the VNC server completes an authenticated
   * handshake through its published port. Call it after every create or start: a restarted
   * container's /run/nexora is a fresh tmpfs.
   */
  async waitReady(id: string, options: WaitReadyOptions): Promise<void> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const vncReady = async (): Promise<void> => {
      await writeVncPassword(this.docker, id, { password: options.vncPassword, timeoutMs: options.timeoutMs, signal });
      await waitForRfbGreeting({ host: this.endpointHost, port: options.vncPort, password: options.vncPassword, timeoutMs: options.timeoutMs, signal });
    };
    try {
      await Promise.all([
        waitForStatusReady(this.docker, id, { timeoutMs: options.timeoutMs, signal, ...(options.skipVerdicts ? { skipVerdicts: options.skipVerdicts } : {}) }),
        vncReady(),
      ]);
    } finally {
      controller.abort();
    }
  }

  /** READY/FAILED lines already in the container's log (take it before a restart). */
  verdictsSoFar(id: string, options: EngineCallOptions = {}): Promise<number> {
    return countVerdicts(this.docker, id, { signal: callSignal(options) }).catch(() => 0);
  }

  /** Waits for the VNC server only (after an unpause: the desktop was ready when paused), with an authenticated handshake. */
  waitGreeting(options: { id?: string; vncPort: number; vncPassword: string; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    return waitForRfbGreeting({
      host: this.endpointHost,
      port: options.vncPort,
      password: options.vncPassword,
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  workstation(container: ManagedContainer, vncPassword: string): DockerWorkstation {
    return new DockerWorkstation({
      docker: this.docker,
      id: container.id,
      name: container.name,
      sessionId: container.sessionId,
      workspaceDir: container.workspaceDir,
      endpointHost: this.endpointHost,
      vncPort: container.vncPort,
      cdpPort: container.cdpPort,
      vncPassword,
      user: container.labels[LABELS.user] ?? '',
    });
  }

  /** One managed container, or undefined when it does not exist (or is not Nexora's). */
  async inspect(id: string, options: EngineCallOptions = {}): Promise<ManagedContainer | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect({ abortSignal: callSignal(options) });
      const labels = info.Config.Labels ?? {};
      if (labels[LABELS.managed] !== '1') return undefined;
      for (const [key, value] of Object.entries(this.options.labels ?? {})) if (labels[key] !== value) return undefined;
      const state = info.State.Status as ContainerState;
      return toManaged({
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        state,
        labels,
        health: (info.State.Health?.Status as ManagedContainer['health'] | undefined) ?? 'none',
        createdAt: new Date(info.Created),
      });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw dockerError(`inspect container ${id.slice(0, 12)}`, error);
    }
  }

  /** Every container carrying Nexora's label on this engine (running or not). */
  async list(options: EngineCallOptions = {}): Promise<ManagedContainer[]> {
    let containers;
    try {
      // Only this store's containers: other stores (another user, a test) own theirs.
      const scope = Object.entries(this.options.labels ?? {}).map(([key, value]) => `${key}=${value}`);
      containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`, ...scope] }, abortSignal: callSignal(options) });
    } catch (error) {
      throw dockerError('list workstation containers', error);
    }
    return containers.map((container) =>
      toManaged({
        id: container.Id,
        name: (container.Names[0] ?? container.Id).replace(/^\//, ''),
        state: container.State as ContainerState,
        labels: container.Labels,
        health: /\(healthy\)/.test(container.Status) ? 'healthy' : /\(unhealthy\)/.test(container.Status) ? 'unhealthy' : /health: starting/.test(container.Status) ? 'starting' : 'none',
        createdAt: new Date(container.Created * 1000),
      }),
    );
  }

  async remove(id: string, options: EngineCallOptions = {}): Promise<void> {
    try {
      // A forced removal on a loaded host can take a while: a longer default deadline than other calls.
      await this.docker.getContainer(id).remove({ force: true, v: true, abortSignal: callSignal(options, 60_000) });
    } catch (error) {
      if (isNotFound(error) || /already in progress/.test(describeError(error))) return;
      throw dockerError(`remove container ${id.slice(0, 12)}`, error);
    }
  }

  async stop(id: string, timeoutSeconds = 2, options: EngineCallOptions = {}): Promise<void> {
    try {
      // The deadline covers the engine's own wait for the process to exit.
      await this.docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal: callSignal(options, 30_000 + timeoutSeconds * 1000) });
    } catch (error) {
      if (isNotModified(error)) return;
      throw dockerError(`stop container ${id.slice(0, 12)}`, error);
    }
  }

  async start(id: string, options: EngineCallOptions = {}): Promise<void> {
    try {
      await this.docker.getContainer(id).start({ abortSignal: callSignal(options) });
    } catch (error) {
      if (isNotModified(error)) return;
      throw dockerError(`start container ${id.slice(0, 12)}`, error);
    }
  }

  async pause(id: string, options: EngineCallOptions = {}): Promise<void> {
    try {
      await this.docker.getContainer(id).pause({ abortSignal: callSignal(options) });
    } catch (error) {
      throw dockerError(`pause container ${id.slice(0, 12)}`, error);
    }
  }

  async unpause(id: string, options: EngineCallOptions = {}): Promise<void> {
    try {
      await this.docker.getContainer(id).unpause({ abortSignal: callSignal(options) });
    } catch (error) {
      if (/is not paused/.test(describeError(error))) return;
      throw dockerError(`unpause container ${id.slice(0, 12)}`, error);
    }
  }

  /** The engine's event stream of Nexora containers: die, oom, health_status. */
  events(options: { signal: AbortSignal }): Promise<NodeJS.ReadableStream> {
    return this.docker.getEvents({
      filters: { type: ['container'], label: [`${LABELS.managed}=1`], event: ['die', 'oom', 'health_status'] },
      abortSignal: options.signal,
    });
  }

  /** Memory in use by the container (cgroup usage minus page cache), in bytes. */
  memoryUsage(id: string, options: EngineCallOptions = {}): Promise<number> {
    return containerMemoryInUse(this.docker, id, { signal: callSignal(options), what: `container ${id.slice(0, 12)}` });
  }

}

/**
 * Memory in use by a container (cgroup usage minus page cache), in bytes, from one stats
 * request on the engine that runs it; `what` names it in the error.
 */
export async function containerMemoryInUse(docker: Docker, containerId: string, options: { signal: AbortSignal; what: string }): Promise<number> {
  let stats: Docker.ContainerStats;
  try {
    // dockerode's typings omit abortSignal on stats; docker-modem honours it like on every call.
    stats = await docker.getContainer(containerId).stats({ stream: false, abortSignal: options.signal } as { stream: false });
  } catch (error) {
    throw dockerError(`read the memory use of ${options.what}`, error);
  }
  const usage = stats.memory_stats.usage ?? 0;
  const extra = stats.memory_stats.stats as Record<string, number> | undefined;
  const cache = extra?.inactive_file ?? extra?.total_inactive_file ?? extra?.cache ?? 0;
  return Math.max(usage - cache, 0);
}

function toManaged(raw: {
  id: string;
  name: string;
  state: ContainerState;
  labels: Record<string, string>;
  health: ManagedContainer['health'];
  createdAt: Date;
}): ManagedContainer {
  return {
    ...raw,
    sessionId: raw.labels[LABELS.session] ?? '',
    poolKey: raw.labels[LABELS.pool],
    workspaceDir: raw.labels[LABELS.workspace] ?? '',
    vncPort: Number(raw.labels[LABELS.vncPort] ?? 0),
    cdpPort: Number(raw.labels[LABELS.cdpPort] ?? 0),
    owner: ownerFromLabels(raw.labels),
  };
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

function isNotModified(error: unknown): boolean {
  return statusCode(error) === 304;
}

export function dockerError(action: string, error: unknown): NexoraError {
  if (NexoraError.is(error)) return error;
  const text = describeError(error);
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new NexoraError('timeout', `Could not ${action}: the Docker engine did not answer in time, or the call was cancelled (${text}).`, { cause: error });
  }
  if (/ECONNREFUSED|ENOENT|EPIPE|socket hang up/.test(text)) {
    return new NexoraError('docker-unavailable', `Could not ${action}: the Docker engine does not answer (${text}). Start it, or check DOCKER_HOST.`, { cause: error });
  }
  if (statusCode(error) === 404 && /No such image/i.test(text)) {
    return new NexoraError('image-missing', `Could not ${action}: the workstation image is missing. Build it with \`nexora image build\`.`, { cause: error });
  }
  return new NexoraError('docker-failed', `Could not ${action}: ${text}`, { cause: error });
}
