import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { guardWorkstationBridge, removeBridgeGuard, type BridgeGuardResult } from './host-firewall.js';
import { LABELS } from '../labels.js';
import { inspectNetwork } from './engine-requests.js';
import type { WorkstationNetworkKind } from '../workstation-resources.js';

const ICC = 'com.docker.network.bridge.enable_icc';
const MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
const BRIDGE_NAME = 'com.docker.network.bridge.name';

export function networkName(kind: WorkstationNetworkKind, prefix = 'nexora'): string {
  return kind === 'bridge' ? `${prefix}-workstations` : `${prefix}-workstations-isolated`;
}

export interface EnsuredNetwork {
  id: string;
  /** Whether the host's firewall keeps the workstations off the host and link-local addresses. */
  hostGuard: BridgeGuardResult;
}

export interface EnsureNetworkOptions {
  kind: WorkstationNetworkKind;
  name: string;
  labels?: Readonly<Record<string, string>>;
}

const creating = new Map<string, Promise<EnsuredNetwork>>();

/**
 * Creates the workstation network once (idempotent, safe against concurrent starts), or reuses
 * one of that name only when its options are what the kind promises.
 */
export function ensureNetwork(docker: Docker, options: EnsureNetworkOptions): Promise<EnsuredNetwork> {
  const key = `${options.kind}:${options.name}`;
  let pending = creating.get(key);
  if (!pending) {
    pending = createOrVerify(docker, options).catch((error: unknown) => {
      creating.delete(key);
      throw error;
    });
    creating.set(key, pending);
  }
  return pending;
}

/** The options a reused network must have; a message per mismatch, empty when it fits. */
export function networkMismatches(kind: WorkstationNetworkKind, network: { Driver?: string; Internal?: boolean; Options?: Record<string, string> | null }): string[] {
  const problems: string[] = [];
  const options = network.Options ?? {};
  if (network.Driver !== 'bridge') problems.push(`its driver is ${network.Driver ?? 'unknown'}, not bridge`);
  if (options[ICC] !== 'false') problems.push(`traffic between containers is allowed (${ICC} is ${options[ICC] ?? 'unset, which means true'})`);
  if (kind === 'isolated' && options[MASQUERADE] !== 'false') problems.push(`it has a route out (${MASQUERADE} is ${options[MASQUERADE] ?? 'unset, which means true'})`);
  return problems;
}

async function createOrVerify(docker: Docker, options: EnsureNetworkOptions): Promise<EnsuredNetwork> {
  const existing = await findNetwork(docker, options.name);
  if (existing) return verify(docker, options, existing);
  const driverOptions: Record<string, string> = {
    // On a shared bridge any container can reach the others' VNC ports: forbid it.
    [ICC]: 'false',
  };
  // A known interface name, so the host's firewall rules can name it.
  driverOptions[BRIDGE_NAME] = workstationBridgeName(options.kind, options.name);
  if (options.kind === 'isolated') driverOptions[MASQUERADE] = 'false';
  try {
    await docker.createNetwork({
      abortSignal: engineDeadline(),
      Name: options.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Options: driverOptions,
      Labels: { ...options.labels, [LABELS.managed]: '1' },
    });
  } catch (error) {
    // Another process may have created it between the list and the create: verify that one.
    const again = await findNetwork(docker, options.name);
    if (!again) throw new NexoraError('docker-failed', `Could not create the Docker network ${options.name}: ${describeError(error)}.`, { cause: error });
  }
  const created = await findNetwork(docker, options.name);
  if (!created) throw new NexoraError('docker-failed', `The Docker network ${options.name} vanished right after it was created: try again.`);
  return verify(docker, options, created);
}

async function verify(docker: Docker, options: EnsureNetworkOptions, summary: Docker.NetworkInspectInfo): Promise<EnsuredNetwork> {
  const network = await inspectNetwork(docker, summary.Id, engineDeadline());
  const problems = networkMismatches(options.kind, network);
  if (problems.length > 0) {
    throw new NexoraError(
      'invalid-config',
      `The Docker network ${options.name} exists but is not what a${options.kind === 'isolated' ? 'n isolated' : ''} workstation network must be: ${problems.join('; ')}. ` +
        `Remove it (\`docker network rm ${options.name}\`, after stopping its containers) so that Nexora creates it, or name another with NEXORA_NETWORK_NAME.`,
    );
  }
  return { id: network.Id, hostGuard: await guardWorkstationBridge(bridgeOf(network), { ipv6: network.EnableIPv6 === true }) };
}

/** What a session start says when the host's firewall does not guard the network; undefined when it does. */
export function egressWarning(network: string, guard: BridgeGuardResult): string | undefined {
  if (guard.guarded) return undefined;
  return `workstations on ${network} can reach the host's own services (through the gateway and the host's other addresses) and link-local addresses such as the cloud metadata service 169.254.169.254, because ${guard.reason}: ${guard.fix} (\`nexora doctor\` says the same)`;
}

/** The Linux bridge behind a bridge network: the name Nexora gave it, else Docker's `br-<id>`. */
export function bridgeOf(network: { Id: string; Options?: Record<string, string> | null }): string {
  return network.Options?.[BRIDGE_NAME] ?? `br-${network.Id.slice(0, 12)}`;
}

/**
 * Removes a workstation network and its host firewall rules (Docker does not know of them);
 * a network already gone is fine.
 */
export async function removeWorkstationNetwork(docker: Docker, name: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  const signal = options.signal ?? engineDeadline();
  const summary = await findNetwork(docker, name);
  creating.forEach((_value, key) => {
    if (key.endsWith(`:${name}`)) creating.delete(key);
  });
  if (!summary) return;
  const bridge = bridgeOf(summary);
  try {
    await docker.getNetwork(summary.Id).remove({ abortSignal: signal });
  } catch (error) {
    throw new NexoraError('docker-failed', `Could not remove the Docker network ${name}: ${describeError(error)}.`, { cause: error });
  }
  await removeBridgeGuard(bridge);
}

async function findNetwork(docker: Docker, name: string): Promise<Docker.NetworkInspectInfo | undefined> {
  const found = await docker.listNetworks({ filters: { name: [name] }, abortSignal: engineDeadline() });
  return found.find((network) => network.Name === name);
}

/** A deadline for one network request: a wedged engine fails the start instead of hanging it. */
function engineDeadline(): AbortSignal {
  return AbortSignal.timeout(30_000);
}

/** The bridge interface of a network Nexora creates (Linux interface names have at most 15 characters). */
export function workstationBridgeName(kind: WorkstationNetworkKind, network: string): string {
  return `${kind === 'isolated' ? 'nxiso' : 'nxbr'}-${createHash('sha256').update(network).digest('hex').slice(0, 8)}`;
}
