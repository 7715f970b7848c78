import type Docker from 'dockerode';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import type { ContainerState } from '../backend.js';
import { dockerError } from '../docker/docker-backend.js';
import { callSignal, pollDelay } from '../engine-call.js';

/** One task of a service, as the manager reports it. */
export interface ServiceTask {
  id: string;
  serviceId: string;
  nodeId: string | undefined;
  /** Swarm's task state: new … running, complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  desiredState: string;
  containerId: string | undefined;
  /** The error or message Swarm recorded (why a task was rejected, say). */
  message: string;
  createdAt: Date;
}

const taskSchema = z
  .object({
    ID: z.string(),
    ServiceID: z.string(),
    NodeID: z.string().optional(),
    DesiredState: z.string().optional(),
    CreatedAt: z.string().optional(),
    Status: z
      .object({
        State: z.string().optional(),
        Err: z.string().optional(),
        Message: z.string().optional(),
        ContainerStatus: z.object({ ContainerID: z.string().optional() }).passthrough().optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** The tasks of some services (all of Nexora's when `serviceIds` is omitted); at most 15 s, less when the signal says so. */
export async function listServiceTasks(manager: Docker, options: { serviceIds?: readonly string[]; signal?: AbortSignal } = {}): Promise<ServiceTask[]> {
  let raw: unknown[];
  try {
    raw = await manager.listTasks({
      ...(options.serviceIds ? { filters: { service: [...options.serviceIds] } } : {}),
      abortSignal: callSignal({ signal: options.signal }, 15_000),
    });
  } catch (error) {
    throw dockerError('list the swarm tasks', error);
  }
  return raw.flatMap((entry) => {
    const parsed = taskSchema.safeParse(entry);
    if (!parsed.success) return [];
    const task = parsed.data;
    return [
      {
        id: task.ID,
        serviceId: task.ServiceID,
        nodeId: task.NodeID || undefined,
        state: task.Status?.State ?? 'new',
        desiredState: task.DesiredState ?? 'running',
        containerId: task.Status?.ContainerStatus?.ContainerID || undefined,
        message: task.Status?.Err || task.Status?.Message || '',
        createdAt: new Date(task.CreatedAt ?? 0),
      },
    ];
  });
}

/** The task that stands for the service now: the newest one meant to run, else the newest. */
export function currentTask(tasks: readonly ServiceTask[]): ServiceTask | undefined {
  const newest = [...tasks].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return newest.find((task) => task.desiredState === 'running') ?? newest[0];
}

const FINAL_STATES = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/** A task's state in the terms of the local backend's containers. */
export function taskContainerState(task: ServiceTask | undefined): ContainerState {
  if (!task) return 'missing';
  if (task.state === 'running' || (task.state === 'starting' && task.containerId)) return 'running';
  if (task.state === 'complete' || task.state === 'shutdown') return 'exited';
  if (FINAL_STATES.has(task.state)) return 'dead';
  return 'created';
}

/**
 * Waits until the service's task runs and has a container on a node; fails with Swarm's own
 * reason when the task ends first (no node fits, the image is missing on the node, …).
 */
export async function waitForRunningTask(
  manager: Docker,
  serviceId: string,
  options: { timeoutMs: number; signal?: AbortSignal; ignoreTaskIds?: ReadonlySet<string> },
): Promise<ServiceTask & { nodeId: string; containerId: string }> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ServiceTask | undefined;
  let delayMs = 50;
  // Each listing ends with the wait: a manager that stops answering cannot stretch it.
  const waiting = callSignal({ signal: options.signal }, options.timeoutMs);
  const aborted = (): NexoraError => new NexoraError('aborted', 'Waiting for the swarm task was aborted.');
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw aborted();
    let tasks: ServiceTask[];
    try {
      tasks = await listServiceTasks(manager, { serviceIds: [serviceId], signal: AbortSignal.any([waiting, AbortSignal.timeout(10_000)]) });
    } catch (error) {
      if (options.signal?.aborted) throw aborted();
      throw error;
    }
    // Tasks a restart replaced do not count, even while one still reads `running` on a lost node.
    last = currentTask(tasks.filter((task) => !options.ignoreTaskIds?.has(task.id)));
    // `starting` with a container is enough: Swarm holds a task there until Docker's health check
    // first passes (its interval, 30 s); our own readiness wait is sharper (waitReady).
    if ((last?.state === 'running' || last?.state === 'starting') && last.nodeId && last.containerId) return { ...last, nodeId: last.nodeId, containerId: last.containerId };
    if (last && FINAL_STATES.has(last.state)) {
      throw new NexoraError(
        'workstation-failed',
        `Swarm could not run the workstation (task ${last.state}${last.message ? `: ${last.message}` : ''}). If the image is missing on a node, load it with \`nexora image load-nodes\`; if no node has room, lower the reservations (NEXORA_SWARM_RESERVE_MEMORY, NEXORA_SWARM_RESERVE_CPUS) or add nodes.`,
      );
    }
    try {
      await pollDelay(Math.min(delayMs, Math.max(deadline - Date.now(), 0)), waiting);
    } catch {
      if (options.signal?.aborted) throw aborted();
      break;
    }
    delayMs = Math.min(delayMs * 2, 500);
  }
  throw new NexoraError(
    'workstation-not-ready',
    `Swarm did not run the workstation within ${options.timeoutMs} ms (task ${last?.state ?? 'not created'}${last?.message ? `: ${last.message}` : ''}): is there a node with room that matches the constraints? \`nexora doctor\` checks the cluster.`,
  );
}
