import type Docker from 'dockerode';
import type { WorkstationBackend } from './backend.js';
import type { SwarmConfig } from './backend-config.js';
import { DockerBackend } from './docker/docker-backend.js';
import { createDockerClient, pingDocker } from './docker/docker-client.js';
import type { ContainerOwner } from './labels.js';
import { ClusterNodes } from './swarm/cluster-nodes.js';
import { SwarmBackend } from './swarm/swarm-backend.js';
import type { WorkstationLimits, WorkstationNetworkKind } from './workstation-resources.js';

export interface ConnectEngineOptions {
  env: NodeJS.ProcessEnv;
  /** A client of the engine to use; otherwise one from DOCKER_HOST (or the swarm's manager). */
  docker?: Docker;
  swarm?: SwarmConfig;
}

/**
 * A client of the engine workstations are managed through, once it answers: fails with the
 * engine's own message (and how to fix it) when it does not.
 */
export async function connectWorkstationEngine(options: ConnectEngineOptions): Promise<Docker> {
  const engineEnv = engineEnvironment(options.env, options.swarm);
  const docker = options.docker ?? createDockerClient(engineEnv);
  await pingDocker(docker, { env: engineEnv });
  return docker;
}

// On a swarm the manager's engine (NEXORA_SWARM_MANAGER, else DOCKER_HOST) is the one asked.
function engineEnvironment(env: NodeJS.ProcessEnv, swarm: SwarmConfig | undefined): NodeJS.ProcessEnv {
  return swarm?.manager ? { ...env, DOCKER_HOST: swarm.manager } : env;
}

export interface CreateBackendOptions {
  env: NodeJS.ProcessEnv;
  /** From connectWorkstationEngine. */
  docker: Docker;
  image: string;
  owner: ContainerOwner;
  labels: Readonly<Record<string, string>>;
  limits: Partial<WorkstationLimits>;
  namePrefix?: string;
  /** Where published ports are reached from this process (one engine). */
  endpointHost: string;
  network: WorkstationNetworkKind;
  networkName?: string;
  /** Set: workstations run on this Docker Swarm cluster instead of one engine. */
  swarm?: SwarmConfig;
}

/**
 * The backend workstations run on, chosen by configuration: the one place that knows the
 * engine folders, so `sessions/` and its callers see only `WorkstationBackend`.
 */
export function createWorkstationBackend(options: CreateBackendOptions): WorkstationBackend {
  const { env, swarm, docker } = options;
  const namePrefix = options.namePrefix ? { namePrefix: options.namePrefix } : {};
  if (swarm) {
    return new SwarmBackend({
      manager: docker,
      nodes: new ClusterNodes({ manager: docker, endpoints: swarm.nodes, env }),
      image: options.image,
      owner: options.owner,
      labels: options.labels,
      limits: options.limits,
      placement: {
        constraints: swarm.constraints,
        ...(swarm.spread ? { spread: swarm.spread } : {}),
        reserveMemoryBytes: swarm.reserveMemoryBytes,
        reserveNanoCpus: swarm.reserveNanoCpus,
      },
      ...namePrefix,
    });
  }
  return new DockerBackend({
    docker,
    image: options.image,
    owner: options.owner,
    labels: options.labels,
    endpointHost: options.endpointHost,
    network: options.network,
    limits: options.limits,
    ...namePrefix,
    ...(options.networkName ? { networkName: options.networkName } : {}),
  });
}
