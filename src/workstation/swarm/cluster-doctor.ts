import Docker from 'dockerode';
import { describeError } from '../../errors.js';
import type { SwarmConfig } from '../backend-config.js';
import { isNotFound } from '../docker/docker-backend.js';
import { callSignal } from '../engine-call.js';
import { dockerOptionsFromEnv } from '../docker/docker-client.js';
import { inspectImage, inspectNetwork } from '../docker/engine-requests.js';
import { egressRuleCommands } from '../docker/host-firewall.js';
import { bridgeOf } from '../docker/networks.js';
import { ClusterNodes } from './cluster-nodes.js';
import { HOST_BINDING } from './swarm-backend.js';

/** One line of `nexora doctor` about the swarm. */
export interface ClusterCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Not a failure of the run: what the operator must do where Nexora cannot. */
  warning?: boolean;
}

interface NodeFacts {
  hostname: string;
  state: string;
  availability: string;
  endpoint: boolean;
  image: 'present' | 'missing' | 'unknown';
  /** dockerd --icc=false: what the service spec cannot set. */
  hardened: string | undefined;
  /** The node's cluster address, where the server reaches its VNC ports. */
  address: string;
  /** Where its dockerd publishes ports that name no address (`--ip`): Swarm's host-mode ports are such. */
  bindingIp: string | undefined;
  /** The Linux bridge its workstations sit on (the default bridge network). */
  bridge: string | undefined;
  problem?: string;
}

/**
 * What `nexora doctor` reports for NEXORA_BACKEND=swarm: the manager answers, every node is
 * ready and reachable through its endpoint, the image is on each, and each node's engine
 * applies what a Swarm service cannot ask for itself.
 */
export async function checkCluster(options: { config: SwarmConfig; image: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<ClusterCheck[]> {
  const env = options.env ?? process.env;
  const manager = new Docker(dockerOptionsFromEnv(options.config.manager ? { ...env, DOCKER_HOST: options.config.manager } : env));
  const nodes = new ClusterNodes({ manager, endpoints: options.config.nodes, env });
  let listed;
  try {
    listed = await nodes.list({ signal: callSignal({ signal: options.signal }, 5000) });
  } catch (error) {
    return [{ name: 'Swarm manager', ok: false, detail: describeError(error), fix: 'point NEXORA_SWARM_MANAGER at a manager node\'s Engine API, or `docker swarm init` there' }];
  }
  const facts: NodeFacts[] = await Promise.all(
    listed.map(async (node): Promise<NodeFacts> => {
      const base = { hostname: node.hostname, state: node.state, availability: node.availability, endpoint: nodes.hasEndpoint(node.hostname), address: node.address, bindingIp: undefined, bridge: undefined };
      if (!base.endpoint || node.state !== 'ready') return { ...base, image: 'unknown', hardened: undefined };
      const docker = nodes.engine(node.hostname);
      // A node that stops answering is reported as such, not waited on.
      const signal = callSignal({ signal: options.signal }, 10_000);
      try {
        const image = await inspectImage(docker, options.image, signal).then(
          () => 'present' as const,
          (error: unknown) => {
            if (isNotFound(error)) return 'missing' as const;
            throw error;
          },
        );
        // no-new-privileges does not show in the Engine API: every start checks it in the
        // workstation instead (SwarmBackend.waitReady).
        const bridge = await inspectNetwork(docker, 'bridge', signal);
        const gaps = bridge.Options?.['com.docker.network.bridge.enable_icc'] === 'false' ? [] : ['--icc=false'];
        return {
          ...base,
          image,
          hardened: gaps.length === 0 ? undefined : gaps.join(', '),
          bindingIp: bridge.Options?.[HOST_BINDING] ?? '0.0.0.0',
          bridge: bridgeOf(bridge),
        };
      } catch (error) {
        return { ...base, image: 'unknown', hardened: undefined, problem: describeError(error) };
      }
    }),
  );
  const usable = facts.filter((node) => node.availability === 'active');
  const notReady = usable.filter((node) => node.state !== 'ready' || !node.endpoint || node.problem);
  const missing = usable.filter((node) => node.image === 'missing');
  const soft = usable.filter((node) => node.hardened);
  const checked = usable.filter((node) => node.bindingIp !== undefined);
  const wideOpen = checked.filter((node) => node.bindingIp !== node.address);
  return [
    { name: 'Swarm manager', ok: true, detail: `answers; ${listed.length} node${listed.length === 1 ? '' : 's'}` },
    notReady.length === 0
      ? { name: 'Swarm nodes', ok: true, detail: usable.map((node) => `${node.hostname} ready`).join(', ') }
      : {
          name: 'Swarm nodes',
          ok: false,
          detail: notReady.map((node) => `${node.hostname}: ${node.problem ?? (node.state !== 'ready' ? node.state : 'no endpoint in NEXORA_SWARM_NODES')}`).join('; '),
          fix: 'bring the node back, drain it (`docker node update --availability drain`), or add its endpoint to NEXORA_SWARM_NODES',
        },
    missing.length === 0
      ? { name: 'Image on nodes', ok: true, detail: `${options.image} on ${usable.filter((node) => node.image === 'present').length} node(s)` }
      : { name: 'Image on nodes', ok: false, detail: `${options.image} missing on ${missing.map((node) => node.hostname).join(', ')}`, fix: 'run `nexora image load-nodes`' },
    soft.length === 0
      ? { name: 'Node hardening', ok: true, detail: 'every node keeps containers apart on its bridge (--icc=false); no-new-privileges is checked in each workstation at its start' }
      : {
          name: 'Node hardening',
          ok: false,
          detail: soft.map((node) => `${node.hostname} lacks ${node.hardened ?? ''}`).join('; '),
          fix: 'start those nodes\' dockerd with --icc=false --no-new-privileges (Swarm services cannot set them; docs/swarm.md)',
        },
    wideOpen.length === 0
      ? { name: 'VNC publishing', ok: true, detail: `every node publishes workstation ports on its cluster address only (${checked.map((node) => `${node.hostname} ${node.address}`).join(', ') || 'no node checked'})` }
      : {
          name: 'VNC publishing',
          ok: false,
          detail: wideOpen.map((node) => `${node.hostname} publishes workstation VNC ports on ${node.bindingIp ?? ''}${node.bindingIp === '0.0.0.0' ? ' (every address)' : ''}, not only on ${node.address}, where the server reaches it`).join('; '),
          fix: 'start each such node\'s dockerd with --ip=<its cluster address> (a Swarm host-mode port takes no address of its own, so the daemon\'s default binding address is the only way), and let its firewall admit only the Nexora server to the VNC port range (docs/swarm.md)',
        },
    swarmEgressCheck(checked),
  ];
}

/**
 * Nexora manages no node's firewall (it reaches nodes through their Engine API only), so on a
 * swarm the rules that keep workstations off the node's services and link-local addresses are
 * the operator's: always a warning, with the rules for each node's bridge.
 */
function swarmEgressCheck(nodes: readonly NodeFacts[]): ClusterCheck & { warning: true } {
  const bridges = [...new Set(nodes.map((node) => node.bridge ?? 'docker0'))];
  const rules = bridges.flatMap((bridge) => egressRuleCommands(bridge));
  return {
    name: 'Workstation egress',
    ok: false,
    warning: true,
    detail: `NOT enforced by Nexora on swarm nodes: workstations sit on each node's default bridge (${bridges.join(', ') || 'docker0'}) and reach that node's own services and link-local addresses (169.254.169.254 metadata) unless the node's firewall drops them; internet through NAT`,
    fix: `as root on every node: ${rules.join('; ')} (they also stop other containers on that bridge from reaching the node)`,
  };
}
