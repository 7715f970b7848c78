import Docker from 'dockerode';
import { z } from 'zod';
import { NexoraError } from '../../errors.js';
import { dockerError } from '../docker/docker-backend.js';
import { dockerOptionsFromEnv } from '../docker/docker-client.js';
import { callSignal } from '../engine-call.js';

/** One node of the swarm as the manager reports it. */
export interface ClusterNode {
  id: string;
  hostname: string;
  /** The node's cluster address (its advertise address): host-mode ports are reached there. */
  address: string;
  /** `ready`, `down`, `unknown` or `disconnected`. */
  state: string;
  availability: string;
  role: string;
}

const nodeSchema = z
  .object({
    ID: z.string(),
    Spec: z.object({ Role: z.string().optional(), Availability: z.string().optional() }).passthrough().optional(),
    Description: z.object({ Hostname: z.string().optional() }).passthrough().optional(),
    Status: z.object({ State: z.string().optional(), Addr: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();

/**
 * The manager's node list, and each node's own Engine API client (NEXORA_SWARM_NODES):
 * exec, attach, logs and stats of a task's container are per-node operations.
 */
export class ClusterNodes {
  private readonly manager: Docker;
  private readonly endpoints: Readonly<Record<string, string>>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly clients = new Map<string, Docker>();

  constructor(options: { manager: Docker; endpoints: Readonly<Record<string, string>>; env?: NodeJS.ProcessEnv }) {
    this.manager = options.manager;
    this.endpoints = options.endpoints;
    this.env = options.env ?? process.env;
  }

  /** The manager's nodes: at most 15 s, less when the signal says so. */
  async list(options: { signal?: AbortSignal } = {}): Promise<ClusterNode[]> {
    let raw: unknown[];
    try {
      raw = await this.manager.listNodes({ abortSignal: callSignal({ signal: options.signal }, 15_000) } as Docker.NodeListOptions);
    } catch (error) {
      if (/not a swarm manager|This node is not a swarm manager/i.test(String((error as Error | undefined)?.message))) {
        throw new NexoraError('swarm-unavailable', 'The engine NEXORA_SWARM_MANAGER (or DOCKER_HOST) names is not a swarm manager: point it at a manager, or run `docker swarm init` there.', { cause: error });
      }
      throw dockerError('list the swarm nodes', error);
    }
    return raw.flatMap((entry) => {
      const parsed = nodeSchema.safeParse(entry);
      if (!parsed.success) return [];
      const node = parsed.data;
      return [
        {
          id: node.ID,
          hostname: node.Description?.Hostname ?? node.ID,
          address: node.Status?.Addr ?? '',
          state: node.Status?.State ?? 'unknown',
          availability: node.Spec?.Availability ?? 'active',
          role: node.Spec?.Role ?? 'worker',
        },
      ];
    });
  }

  /** The node's own engine; fails when NEXORA_SWARM_NODES has no endpoint for it. */
  engine(hostname: string): Docker {
    const existing = this.clients.get(hostname);
    if (existing) return existing;
    const endpoint = this.endpoints[hostname];
    if (!endpoint) {
      throw new NexoraError(
        'swarm-node-unreachable',
        `The swarm node ${hostname} has no Engine API endpoint in NEXORA_SWARM_NODES, so its workstations cannot be reached: add ${hostname}=tcp://ADDRESS:2376 (TLS), or constrain placement away from it (NEXORA_SWARM_CONSTRAINTS).`,
      );
    }
    const client = new Docker(dockerOptionsFromEnv({ ...this.env, DOCKER_HOST: endpoint }));
    this.clients.set(hostname, client);
    return client;
  }

  hasEndpoint(hostname: string): boolean {
    return this.endpoints[hostname] !== undefined;
  }
}
