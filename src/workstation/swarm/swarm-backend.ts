import type Docker from 'dockerode';
import { NexoraError } from '../../errors.js';
import type { ContainerState, CreateWorkstationOptions, EngineCallOptions, ManagedContainer, WaitReadyOptions, WorkstationBackend } from '../backend.js';
import { workstationSpecOptions } from '../docker/container-spec.js';
import { DEFAULT_LIMITS, type WorkstationLimits } from '../workstation-resources.js';
import { containerMemoryInUse, dockerError, isNotFound } from '../docker/docker-backend.js';
import { LABELS, ownerFromLabels, type ContainerOwner } from '../labels.js';
import { execInContainer } from '../docker/exec.js';
import { countVerdicts, waitForRfbGreeting, waitForStatusReady } from '../docker/readiness.js';
import { inspectImage, inspectNetwork, pingEngine } from '../docker/engine-requests.js';
import { callSignal, pollDelay } from '../engine-call.js';
import { writeVncPassword } from '../docker/vnc-password-file.js';
import type { Workstation } from '../workstation.js';
import type { ClusterNode, ClusterNodes } from './cluster-nodes.js';
import { buildServiceSpec, type SwarmPlacement } from './service-spec.js';
import { currentTask, listServiceTasks, taskContainerState, waitForRunningTask, type ServiceTask } from './service-tasks.js';
import { SwarmWorkstation, type TaskLocation } from './swarm-workstation.js';

/**
 * Default deadlines of the calls that wait for Swarm, not just for one answer: a removal waits
 * (up to 30 s) for its containers to go, a stop also for the scale-down (up to 30 s more), a
 * start does both and scales up again.
 */
const REMOVE_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 90_000;
const START_TIMEOUT_MS = 120_000;
/** How long a removal or a stop waits for Swarm to let go of a task, within the call's deadline. */
const LET_GO_MS = 30_000;
/** The default bridge's option that says where ports without an address are published. */
export const HOST_BINDING = 'com.docker.network.bridge.host_binding_ipv4';

export interface SwarmBackendOptions {
  /** A manager's Engine API: services, tasks, nodes. */
  manager: Docker;
  nodes: ClusterNodes;
  image: string;
  owner: ContainerOwner;
  /** Service names are `<prefix>-<session id>`. */
  namePrefix?: string;
  /** Extra labels on every service and container; they also scope listing and orphan clean-up. */
  labels?: Readonly<Record<string, string>>;
  limits?: Partial<WorkstationLimits>;
  geometry?: string;
  placement: SwarmPlacement;
}

/**
 * Workstations as Docker Swarm services, one replica each, placed by Swarm across the nodes.
 * A session record's container id is the service id. The manager creates, lists and removes;
 * everything that happens inside a workstation (the VNC password, readiness, exec, attach)
 * goes to the Engine API of the node that runs its task (docs/swarm.md says why).
 */
export class SwarmBackend implements WorkstationBackend {
  readonly kind = 'swarm' as const;
  readonly image: string;
  readonly owner: ContainerOwner;
  /** No single address: each workstation's VNC is on its node (ManagedContainer.vncHost). */
  readonly endpointHost = '';
  readonly manager: Docker;
  readonly nodes: ClusterNodes;
  private readonly options: SwarmBackendOptions;
  private readonly limits: WorkstationLimits;
  private imageChecked = false;
  /** Per service, the tasks a restart replaced: locating it waits for a newer one. */
  private readonly replacedTasks = new Map<string, Set<string>>();

  constructor(options: SwarmBackendOptions) {
    this.manager = options.manager;
    this.nodes = options.nodes;
    this.image = options.image;
    this.owner = options.owner;
    this.options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  serviceName(sessionId: string): string {
    return `${this.options.namePrefix ?? 'nexora'}-${sessionId}`;
  }

  /**
   * Before the first start: every ready node that may take workstations publishes ports on its
   * cluster address only (checked first: it needs no image), and has the image (nothing is pulled).
   */
  async checkImage(options: EngineCallOptions = {}): Promise<void> {
    if (this.imageChecked) return;
    const signal = callSignal(options);
    const missing: string[] = [];
    const eligible = (await this.nodes.list({ signal })).filter((node) => node.state === 'ready' && node.availability === 'active' && this.nodes.hasEndpoint(node.hostname));
    const open = (await Promise.all(eligible.map(async (node) => ({ node, binding: await publishingAddress(this.nodes.engine(node.hostname), signal) })))).filter(({ node, binding }) => binding !== node.address);
    if (open.length > 0) {
      throw new NexoraError(
        'invalid-config',
        `Swarm node(s) ${open.map(({ node, binding }) => `${node.hostname} (publishes on ${binding}, not only ${node.address})`).join(', ')} would publish a workstation's VNC port on every address: a Swarm host-mode port takes no address of its own, so start each node's dockerd with --ip=<its cluster address> (docs/swarm.md), or drain it (\`docker node update --availability drain\`).`,
      );
    }
    for (const node of eligible) {
      try {
        await inspectImage(this.nodes.engine(node.hostname), this.image, signal);
      } catch (error) {
        if (!isNotFound(error)) throw dockerError(`inspect the image ${this.image} on node ${node.hostname}`, error);
        missing.push(node.hostname);
      }
    }
    if (missing.length > 0) {
      throw new NexoraError(
        'image-missing',
        `The workstation image ${this.image} is missing on swarm node(s) ${missing.join(', ')}: load it onto every node with \`nexora image load-nodes\` (or push it to your registry with \`nexora image push REGISTRY\` and set NEXORA_WORKSTATION_IMAGE), then try again.`,
      );
    }
    this.imageChecked = true;
  }

  async create(options: CreateWorkstationOptions): Promise<{ id: string; name: string; warnings: string[]; node: string; vncHost: string }> {
    const name = this.serviceName(options.sessionId);
    const spec = buildServiceSpec({
      ...workstationSpecOptions(name, options, { image: this.image, geometry: this.options.geometry, limits: this.limits, owner: this.owner, labels: this.options.labels }),
      placement: this.options.placement,
    });
    let service: Docker.Service;
    try {
      service = await this.manager.createService({ ...spec, abortSignal: callSignal({ signal: options.signal }) });
    } catch (error) {
      throw dockerError(`create the workstation service ${name}`, error);
    }
    try {
      const location = await this.locate(service.id, { timeoutMs: options.startTimeoutMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
      return { id: service.id, name, warnings: [], node: location.node.hostname, vncHost: location.node.address };
    } catch (error) {
      await this.remove(service.id).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Where the service's task runs now: its node, that node's engine and the container there.
   * Waits (within timeoutMs) while Swarm is still placing it.
   */
  async locate(serviceId: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TaskLocation> {
    const replaced = this.replacedTasks.get(serviceId);
    // The node lookup after the wait gets what is left of the same deadline.
    const signal = callSignal(options, 15_000);
    const task = await waitForRunningTask(this.manager, serviceId, {
      timeoutMs: options.timeoutMs ?? 15_000,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(replaced ? { ignoreTaskIds: replaced } : {}),
    });
    const node = (await this.nodes.list({ signal })).find((candidate) => candidate.id === task.nodeId);
    if (!node) throw new NexoraError('swarm-node-unreachable', `The node running workstation ${serviceId.slice(0, 12)} left the swarm.`);
    if (node.state !== 'ready') throw new NexoraError('swarm-node-unreachable', `The node ${node.hostname} running workstation ${serviceId.slice(0, 12)} is ${node.state}.`);
    return { node, docker: this.nodes.engine(node.hostname), containerId: task.containerId };
  }

  async waitReady(id: string, options: WaitReadyOptions): Promise<void> {
    const location = await this.locate(id, { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const vncReady = async (): Promise<void> => {
      // Through an exec's stdin on the task's node: never the environment, never a Swarm spec.
      await writeVncPassword(location.docker, location.containerId, { password: options.vncPassword, timeoutMs: options.timeoutMs, signal });
      await waitForRfbGreeting({ host: location.node.address, port: options.vncPort, password: options.vncPassword, timeoutMs: options.timeoutMs, signal });
    };
    try {
      await Promise.all([
        waitForStatusReady(location.docker, location.containerId, { timeoutMs: options.timeoutMs, signal, ...(options.skipVerdicts ? { skipVerdicts: options.skipVerdicts } : {}) }),
        vncReady(),
        this.checkNoNewPrivileges(location, signal),
      ]);
    } finally {
      controller.abort();
    }
  }

  /**
   * A Swarm service cannot ask for no-new-privileges (API 1.41): the node's dockerd must apply
   * it to every container (`--no-new-privileges`). The engine does not report that setting, so
   * each workstation is checked from inside; one that lacks it is not used.
   */
  private async checkNoNewPrivileges(location: TaskLocation, signal: AbortSignal): Promise<void> {
    const result = await execInContainer(location.docker, location.containerId, { cmd: ['grep', '^NoNewPrivs:', '/proc/self/status'], cwd: '/', timeoutMs: 10_000, signal, maxOutputBytes: 4096 });
    if (!/^NoNewPrivs:\s*1\s*$/m.test(result.stdout)) {
      throw new NexoraError(
        'workstation-failed',
        `The swarm node ${location.node.hostname} runs containers without no-new-privileges (${result.stdout.trim() || result.stderr.trim() || `exit ${result.exitCode}`}): start its dockerd with --no-new-privileges (docs/swarm.md), or keep workstations off it with NEXORA_SWARM_CONSTRAINTS.`,
      );
    }
  }

  async verdictsSoFar(id: string, options: EngineCallOptions = {}): Promise<number> {
    const signal = callSignal(options);
    try {
      const location = await this.locate(id, { timeoutMs: options.timeoutMs ?? 5000, ...(options.signal ? { signal: options.signal } : {}) });
      return await countVerdicts(location.docker, location.containerId, { signal });
    } catch {
      return 0;
    }
  }

  async waitGreeting(options: { id: string; vncPort: number; vncPassword: string; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
    const location = await this.locate(options.id, { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    return waitForRfbGreeting({ host: location.node.address, port: options.vncPort, password: options.vncPassword, timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  }

  workstation(container: ManagedContainer, vncPassword: string): Workstation {
    return new SwarmWorkstation({ backend: this, container, vncPassword, user: container.labels[LABELS.user] ?? '' });
  }

  async inspect(id: string, options: EngineCallOptions = {}): Promise<ManagedContainer | undefined> {
    const signal = callSignal(options);
    let info: { ID: string; CreatedAt?: string; Spec?: { Name?: string; Labels?: Record<string, string> } };
    try {
      info = (await this.manager.getService(id).inspect({ abortSignal: signal })) as typeof info;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw dockerError(`inspect service ${id.slice(0, 12)}`, error);
    }
    const labels = info.Spec?.Labels ?? {};
    if (!this.isOurs(labels)) return undefined;
    const [tasks, nodes] = await Promise.all([listServiceTasks(this.manager, { serviceIds: [info.ID], signal }), this.nodes.list({ signal })]);
    return toManaged({ id: info.ID, name: info.Spec?.Name ?? id, labels, createdAt: new Date(info.CreatedAt ?? 0), task: currentTask(tasks), nodes });
  }

  async list(options: EngineCallOptions = {}): Promise<ManagedContainer[]> {
    const signal = callSignal(options);
    let services: { ID: string; CreatedAt?: string; Spec?: { Name?: string; Labels?: Record<string, string> } }[];
    try {
      services = await this.manager.listServices({ filters: { label: this.scopeFilters() }, abortSignal: signal } as Docker.ServiceListOptions);
    } catch (error) {
      throw dockerError('list workstation services', error);
    }
    if (services.length === 0) return [];
    const [tasks, nodes] = await Promise.all([listServiceTasks(this.manager, { signal }), this.nodes.list({ signal })]);
    return services.map((service) =>
      toManaged({
        id: service.ID,
        name: service.Spec?.Name ?? service.ID,
        labels: service.Spec?.Labels ?? {},
        createdAt: new Date(service.CreatedAt ?? 0),
        task: currentTask(tasks.filter((task) => task.serviceId === service.ID)),
        nodes,
      }),
    );
  }

  /**
   * Removes the service, then waits (bounded) until its containers are gone from every live
   * node that ran one: only then may its VNC port go to another session on the same node.
   */
  async remove(id: string, options: EngineCallOptions = {}): Promise<void> {
    const signal = callSignal(options, REMOVE_TIMEOUT_MS);
    this.replacedTasks.delete(id);
    let tasks: ServiceTask[] = [];
    try {
      tasks = await listServiceTasks(this.manager, { serviceIds: [id], signal });
    } catch {
      // The manager is unreachable: the removal below says so.
    }
    try {
      await this.manager.getService(id).remove({ abortSignal: signal });
    } catch (error) {
      if (!isNotFound(error)) throw dockerError(`remove service ${id.slice(0, 12)}`, error);
    }
    try {
      await this.waitLetGo(tasks, { signal });
    } catch (error) {
      throw dockerError(`remove service ${id.slice(0, 12)} (waiting for its containers to go)`, error);
    }
  }

  /** Waits until the tasks' containers are gone from every live node (that Nexora can reach) that ran one. */
  private async waitLetGo(tasks: readonly ServiceTask[], options: { runningOnly?: boolean; signal: AbortSignal }): Promise<void> {
    const nodeIds = new Set(tasks.flatMap((task) => (task.nodeId ? [task.nodeId] : [])));
    if (nodeIds.size === 0) return;
    const nodes = (await this.nodes.list({ signal: options.signal }).catch(() => [])).filter((node) => nodeIds.has(node.id) && node.state === 'ready' && this.nodes.hasEndpoint(node.hostname));
    await Promise.all(nodes.map((node) => this.waitContainersGone(node, tasks, options)));
  }

  /** Waits (up to LET_GO_MS) until the tasks' containers are gone from the node; the signal ends it with an error. */
  private async waitContainersGone(node: ClusterNode, tasks: readonly ServiceTask[], options: { runningOnly?: boolean; signal: AbortSignal }): Promise<void> {
    const docker = this.nodes.engine(node.hostname);
    const taskIds = tasks.map((task) => task.id);
    const deadline = Date.now() + LET_GO_MS;
    while (Date.now() < deadline) {
      const remaining = await this.countTaskContainers(docker, taskIds, options);
      options.signal.throwIfAborted();
      if (remaining === 0) return;
      // A failed listing ends the wait only when the node stopped answering (the fixture or the
      // operator cleans that node); one error while containers are being removed does not.
      if (remaining === undefined && !(await answers(docker, options.signal))) {
        options.signal.throwIfAborted();
        return;
      }
      await pollDelay(200, options.signal);
    }
  }

  private async countTaskContainers(docker: Docker, taskIds: readonly string[], options: { runningOnly?: boolean; signal: AbortSignal }): Promise<number | undefined> {
    try {
      // A stopped task's container holds no port: when only the port matters, it may stay.
      const all = await docker.listContainers({
        all: options.runningOnly !== true,
        filters: { label: ['com.docker.swarm.task.id'] },
        abortSignal: AbortSignal.any([options.signal, AbortSignal.timeout(10_000)]),
      });
      return all.filter((container) => taskIds.includes(container.Labels['com.docker.swarm.task.id'] ?? '')).length;
    } catch {
      return undefined;
    }
  }

  /**
   * Scales the service to zero and waits (bounded) until Swarm has let go of its task: no task
   * meant to run, and no container left on a live node (its VNC port is then free there).
   */
  async stop(id: string, _timeoutSeconds?: number, options: EngineCallOptions = {}): Promise<void> {
    const signal = callSignal(options, STOP_TIMEOUT_MS);
    await this.scale(id, 0, signal);
    await this.waitScaledDown(id, signal);
  }

  /**
   * Scales the service down, then back to one: Swarm places a new task (a fresh container),
   * on another node if its node is down. Scaling up alone would not do: a task on a node that
   * went down still fills the service's one slot until the orchestrator lets go of it.
   */
  async start(id: string, options: EngineCallOptions = {}): Promise<void> {
    const signal = callSignal(options, START_TIMEOUT_MS);
    const replaced = this.replacedTasks.get(id) ?? new Set<string>();
    for (const task of await listServiceTasks(this.manager, { serviceIds: [id], signal })) replaced.add(task.id);
    this.replacedTasks.set(id, replaced);
    await this.scale(id, 0, signal);
    await this.waitScaledDown(id, signal);
    await this.scale(id, 1, signal);
  }

  private async waitScaledDown(id: string, signal: AbortSignal): Promise<void> {
    try {
      const deadline = Date.now() + LET_GO_MS;
      let tasks = await listServiceTasks(this.manager, { serviceIds: [id], signal });
      while (tasks.some((task) => task.desiredState === 'running') && Date.now() < deadline) {
        await pollDelay(200, signal);
        tasks = await listServiceTasks(this.manager, { serviceIds: [id], signal });
      }
      await this.waitLetGo(tasks, { runningOnly: true, signal });
    } catch (error) {
      throw dockerError(`stop service ${id.slice(0, 12)} (waiting for Swarm to let go of its task)`, error);
    }
  }

  private async scale(id: string, replicas: number, signal: AbortSignal): Promise<void> {
    try {
      const service = this.manager.getService(id);
      const info = (await service.inspect({ abortSignal: signal })) as { Version: { Index: number }; Spec: Docker.ServiceSpec };
      const task = info.Spec.TaskTemplate;
      await service.update({
        ...info.Spec,
        version: info.Version.Index,
        Mode: { Replicated: { Replicas: replicas } },
        ...(task ? { TaskTemplate: { ...task, ForceUpdate: (task.ForceUpdate ?? 0) + 1 } } : {}),
        abortSignal: signal,
      });
    } catch (error) {
      throw dockerError(`scale service ${id.slice(0, 12)} to ${replicas}`, error);
    }
  }

  pause(): Promise<void> {
    return Promise.reject(unsupported('pausing a workstation'));
  }

  unpause(): Promise<void> {
    return Promise.reject(unsupported('unpausing a workstation'));
  }

  async memoryUsage(id: string, options: EngineCallOptions = {}): Promise<number> {
    const signal = callSignal(options);
    const location = await this.locate(id, { timeoutMs: options.timeoutMs ?? 10_000, ...(options.signal ? { signal: options.signal } : {}) });
    return containerMemoryInUse(location.docker, location.containerId, { signal, what: `workstation ${id.slice(0, 12)}` });
  }

  /**
   * The manager node's container events only (an engine reports its own containers): the
   * health monitor's periodic sweep, which asks the manager for every task, covers the rest.
   */
  events(options: { signal: AbortSignal }): Promise<NodeJS.ReadableStream> {
    return this.manager.getEvents({
      filters: { type: ['container'], label: [`${LABELS.managed}=1`], event: ['die', 'oom', 'health_status'] },
      abortSignal: options.signal,
    });
  }

  private scopeFilters(): string[] {
    return [`${LABELS.managed}=1`, ...Object.entries(this.options.labels ?? {}).map(([key, value]) => `${key}=${value}`)];
  }

  private isOurs(labels: Readonly<Record<string, string>>): boolean {
    if (labels[LABELS.managed] !== '1') return false;
    return Object.entries(this.options.labels ?? {}).every(([key, value]) => labels[key] === value);
  }
}

function toManaged(raw: { id: string; name: string; labels: Record<string, string>; createdAt: Date; task: ServiceTask | undefined; nodes: readonly ClusterNode[] }): ManagedContainer {
  const node = raw.nodes.find((candidate) => candidate.id === raw.task?.nodeId);
  let state: ContainerState = taskContainerState(raw.task);
  let detail = raw.task?.message || undefined;
  // A task on a node that stopped answering still reads `running` for a while: it is lost.
  if (state === 'running' && node && node.state !== 'ready') {
    state = 'dead';
    detail = `its node ${node.hostname} is ${node.state}`;
  }
  return {
    id: raw.id,
    name: raw.name,
    state,
    sessionId: raw.labels[LABELS.session] ?? '',
    poolKey: raw.labels[LABELS.pool],
    workspaceDir: raw.labels[LABELS.workspace] ?? '',
    vncPort: Number(raw.labels[LABELS.vncPort] ?? 0),
    cdpPort: Number(raw.labels[LABELS.cdpPort] ?? 0),
    owner: ownerFromLabels(raw.labels),
    labels: raw.labels,
    health: 'none',
    createdAt: raw.createdAt,
    ...(node ? { node: node.hostname, vncHost: node.address } : {}),
    ...(detail ? { detail } : {}),
  };
}

/**
 * Where a node's engine publishes a port that names no address (dockerd --ip, its default
 * bridge's host_binding_ipv4): Swarm's host-mode ports are such ports.
 */
async function publishingAddress(docker: Docker, signal: AbortSignal): Promise<string> {
  try {
    return (await inspectNetwork(docker, 'bridge', signal)).Options?.[HOST_BINDING] ?? '0.0.0.0';
  } catch (error) {
    throw dockerError('inspect a swarm node\'s default bridge', error);
  }
}

/** Whether an engine answers a ping within 5 s (false, too, once the signal fired). */
function answers(docker: Docker, signal: AbortSignal): Promise<boolean> {
  return pingEngine(docker, AbortSignal.any([signal, AbortSignal.timeout(5000)])).then(
    () => true,
    () => false,
  );
}

function unsupported(what: string): NexoraError {
  return new NexoraError('unsupported', `The swarm backend does not support ${what} (the warm pool needs it): set NEXORA_POOL_SIZE=0 with NEXORA_BACKEND=swarm.`);
}

