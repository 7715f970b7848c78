import { z } from 'zod';
import { NexoraError } from '../errors.js';
import type { SwarmConfig } from '../workstation/backend-config.js';
import type { WorkstationLimits, WorkstationNetworkKind } from '../workstation/workstation-resources.js';
import type { HealthPolicy } from './health-monitor.js';

/** Session and workstation settings from the environment. */
export interface SessionConfig {
  limits: Partial<WorkstationLimits>;
  network: WorkstationNetworkKind;
  /** Where published ports are reached from this process (127.0.0.1 for a local engine). */
  endpointHost: string;
  poolSize: number;
  poolIdleTimeoutMs: number;
  startTimeoutMs: number;
  /** Workstation starts run at once in the server (the rest queue); default from the CPU count. */
  startConcurrency: number | undefined;
  healthPolicy: HealthPolicy;
  /** Overrides of names and extra labels, for hosts shared by several Nexora setups (and tests). */
  networkName: string | undefined;
  containerPrefix: string | undefined;
  containerLabels: Record<string, string>;
  /** Where workstations run: the one local engine, or a Docker Swarm cluster. */
  backend: 'docker' | 'swarm';
  /** Set when backend is swarm. */
  swarm: SwarmConfig | undefined;
}

const sizeText = z
  .string()
  .regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size such as 512m or 2g')
  .transform((text) => {
    const unit = text.slice(-1).toLowerCase();
    const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
    return Math.round(Number(/[kmg]$/i.test(text) ? text.slice(0, -1) : text) * factor);
  })
  .refine((bytes) => bytes >= 64 * 1024 ** 2, 'at least 64m: X, VNC and tmux need it');

const schema = z.object({
  NEXORA_WORKSTATION_MEMORY: sizeText.optional(),
  NEXORA_WORKSTATION_CPUS: z.coerce.number().positive().max(256).optional(),
  NEXORA_WORKSTATION_PIDS: z.coerce.number().int().min(64).max(1_000_000).optional(),
  NEXORA_WORKSTATION_NETWORK: z.enum(['bridge', 'isolated']).optional(),
  NEXORA_WORKSTATION_HOST: z.string().min(1).optional(),
  NEXORA_POOL_SIZE: z.coerce.number().int().min(0).max(100).optional(),
  NEXORA_POOL_IDLE_TIMEOUT: z.coerce.number().int().min(10).optional(),
  NEXORA_START_TIMEOUT: z.coerce.number().int().min(1).max(600).optional(),
  NEXORA_START_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  NEXORA_HEALTH_POLICY: z.enum(['restart', 'crash']).optional(),
  NEXORA_NETWORK_NAME: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'expected a Docker network name').optional(),
  NEXORA_CONTAINER_PREFIX: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'expected a Docker name prefix').optional(),
  NEXORA_BACKEND: z.enum(['docker', 'swarm']).optional(),
  NEXORA_SWARM_MANAGER: z.string().regex(/^(unix|tcp|ssh|https?):\/\/\S+$/, 'expected an Engine API address such as unix:///run/docker.sock or tcp://10.0.0.1:2376').optional(),
  NEXORA_SWARM_NODES: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*=(unix|tcp|ssh|https?):\/\/[^,\s]+(,[A-Za-z0-9][A-Za-z0-9_.-]*=(unix|tcp|ssh|https?):\/\/[^,\s]+)*$/, 'expected hostname=endpoint pairs separated by commas, e.g. node1=tcp://10.0.0.11:2376,node2=tcp://10.0.0.12:2376')
    .optional(),
  NEXORA_SWARM_CONSTRAINTS: z.string().regex(/^[^;]+(;[^;]+)*$/, 'expected constraints separated by semicolons, e.g. node.labels.nexora==1;node.role==worker').optional(),
  NEXORA_SWARM_SPREAD: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a spread descriptor such as node.id or node.labels.zone').optional(),
  NEXORA_SWARM_RESERVE_MEMORY: sizeText.optional(),
  NEXORA_SWARM_RESERVE_CPUS: z.coerce.number().min(0).max(256).optional(),
  NEXORA_CONTAINER_LABELS: z
    .string()
    .regex(/^[a-z0-9.-]+=[^,=]*(,[a-z0-9.-]+=[^,=]*)*$/, 'expected key=value pairs separated by commas')
    .optional(),
});

/** Reads the settings; a bad value fails with the variable's name and how to fix it. */
export function loadSessionConfig(env: NodeJS.ProcessEnv = process.env): SessionConfig {
  const present = Object.fromEntries(Object.keys(schema.shape).flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'a setting');
    throw new NexoraError('invalid-config', `${name}=${String(env[name])} is not valid: ${issue?.message ?? 'invalid'}. Fix or unset it.`);
  }
  const value = parsed.data;
  const limits: Partial<WorkstationLimits> = {};
  if (value.NEXORA_WORKSTATION_MEMORY !== undefined) limits.memoryBytes = value.NEXORA_WORKSTATION_MEMORY;
  if (value.NEXORA_WORKSTATION_CPUS !== undefined) limits.nanoCpus = Math.round(value.NEXORA_WORKSTATION_CPUS * 1e9);
  if (value.NEXORA_WORKSTATION_PIDS !== undefined) limits.pidsLimit = value.NEXORA_WORKSTATION_PIDS;
  const backend = value.NEXORA_BACKEND ?? 'docker';
  if (backend === 'swarm' && !value.NEXORA_SWARM_NODES) {
    throw new NexoraError(
      'invalid-config',
      'NEXORA_BACKEND=swarm needs NEXORA_SWARM_NODES: each node\'s Engine API endpoint by hostname (node1=tcp://10.0.0.11:2376,…), since exec and attach reach a workstation through its own node. See docs/swarm.md.',
    );
  }
  if (backend === 'swarm') refuseSwarmNetworkSettings(value);
  if (backend === 'swarm' && (value.NEXORA_POOL_SIZE ?? 0) > 0) {
    throw new NexoraError('invalid-config', 'NEXORA_POOL_SIZE must be 0 with NEXORA_BACKEND=swarm: the warm pool pauses workstations, which Swarm services cannot do. Unset one of them.');
  }
  return {
    backend,
    swarm:
      backend === 'swarm'
        ? {
            manager: value.NEXORA_SWARM_MANAGER,
            nodes: Object.fromEntries((value.NEXORA_SWARM_NODES ?? '').split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
            constraints: value.NEXORA_SWARM_CONSTRAINTS?.split(';').map((part) => part.trim()) ?? [],
            spread: value.NEXORA_SWARM_SPREAD,
            reserveMemoryBytes: value.NEXORA_SWARM_RESERVE_MEMORY ?? 256 * 1024 ** 2,
            reserveNanoCpus: Math.round((value.NEXORA_SWARM_RESERVE_CPUS ?? 0.1) * 1e9),
          }
        : undefined,
    limits,
    network: value.NEXORA_WORKSTATION_NETWORK ?? 'bridge',
    endpointHost: value.NEXORA_WORKSTATION_HOST ?? '127.0.0.1',
    poolSize: value.NEXORA_POOL_SIZE ?? 0,
    poolIdleTimeoutMs: (value.NEXORA_POOL_IDLE_TIMEOUT ?? 1800) * 1000,
    startTimeoutMs: (value.NEXORA_START_TIMEOUT ?? 60) * 1000,
    startConcurrency: value.NEXORA_START_CONCURRENCY,
    healthPolicy: value.NEXORA_HEALTH_POLICY ?? 'restart',
    networkName: value.NEXORA_NETWORK_NAME,
    containerPrefix: value.NEXORA_CONTAINER_PREFIX,
    containerLabels: Object.fromEntries(
      (value.NEXORA_CONTAINER_LABELS?.split(',') ?? []).map((pair) => pair.split('=') as [string, string]),
    ),
  };
}

/**
 * Network settings the swarm backend does not implement fail loudly instead of being dropped: a
 * user who asked for `isolated` must not get a workstation with a route out.
 */
function refuseSwarmNetworkSettings(value: { NEXORA_WORKSTATION_NETWORK?: string | undefined; NEXORA_NETWORK_NAME?: string | undefined; NEXORA_WORKSTATION_HOST?: string | undefined }): void {
  if (value.NEXORA_WORKSTATION_NETWORK === 'isolated') {
    throw new NexoraError(
      'invalid-config',
      'NEXORA_WORKSTATION_NETWORK=isolated is not available with NEXORA_BACKEND=swarm: an internal overlay network has no published ports, so the server could not reach the workstation\'s VNC. Unset it (workstations then use each node\'s bridge, guarded by the node\'s firewall: docs/swarm.md), or use NEXORA_BACKEND=docker for isolated workstations.',
    );
  }
  if (value.NEXORA_NETWORK_NAME !== undefined) {
    throw new NexoraError('invalid-config', `NEXORA_NETWORK_NAME=${value.NEXORA_NETWORK_NAME} is not used with NEXORA_BACKEND=swarm: swarm workstations run on each node's default bridge. Unset it.`);
  }
  if (value.NEXORA_WORKSTATION_HOST !== undefined) {
    throw new NexoraError('invalid-config', `NEXORA_WORKSTATION_HOST=${value.NEXORA_WORKSTATION_HOST} is not used with NEXORA_BACKEND=swarm: the server reaches each workstation at its node's swarm address. Unset it.`);
  }
}
