import { z } from 'zod';
import { NexoraError } from '../errors.js';
import type { WorkstationLimits } from '../workstation/docker/container-spec.js';
import type { WorkstationNetworkKind } from '../workstation/docker/networks.js';
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
  return {
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
