import type Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { LABELS } from './labels.js';

/**
 * `bridge`: outside access, no traffic between workstations. `isolated`: additionally no
 * route out (no masquerading), while ports published on the host's loopback still work.
 * (Docker's `--internal` networks cannot publish ports, so they cannot carry VNC.)
 */
export type WorkstationNetworkKind = 'bridge' | 'isolated';

export function networkName(kind: WorkstationNetworkKind, prefix = 'nexora'): string {
  return kind === 'bridge' ? `${prefix}-workstations` : `${prefix}-workstations-isolated`;
}

const creating = new Map<string, Promise<string>>();

/** Creates the workstation network once (idempotent, safe against concurrent starts). */
export function ensureNetwork(
  docker: Docker,
  options: { kind: WorkstationNetworkKind; name: string; labels?: Readonly<Record<string, string>> },
): Promise<string> {
  const key = options.name;
  let pending = creating.get(key);
  if (!pending) {
    pending = createIfMissing(docker, options).catch((error: unknown) => {
      creating.delete(key);
      throw error;
    });
    creating.set(key, pending);
  }
  return pending;
}

async function createIfMissing(
  docker: Docker,
  options: { kind: WorkstationNetworkKind; name: string; labels?: Readonly<Record<string, string>> },
): Promise<string> {
  const existing = await docker.listNetworks({ filters: { name: [options.name] } });
  const exact = existing.find((network) => network.Name === options.name);
  if (exact) return exact.Id;
  const driverOptions: Record<string, string> = {
    // On a shared bridge any container can reach the others' VNC ports: forbid it.
    'com.docker.network.bridge.enable_icc': 'false',
  };
  if (options.kind === 'isolated') driverOptions['com.docker.network.bridge.enable_ip_masquerade'] = 'false';
  try {
    const network = await docker.createNetwork({
      Name: options.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Options: driverOptions,
      Labels: { ...options.labels, [LABELS.managed]: '1' },
    });
    return network.id;
  } catch (error) {
    // Another process may have created it between the list and the create.
    const again = await docker.listNetworks({ filters: { name: [options.name] } });
    const found = again.find((network) => network.Name === options.name);
    if (found) return found.Id;
    throw new NexoraError('docker-failed', `Could not create the Docker network ${options.name}: ${describeError(error)}.`, { cause: error });
  }
}
