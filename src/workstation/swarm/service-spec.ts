import type Docker from 'dockerode';
import { buildContainerSpec, type ContainerSpecOptions } from '../docker/container-spec.js';

/** Where Swarm may put a workstation and what it keeps free for it. */
export interface SwarmPlacement {
  /** Swarm constraints, e.g. `node.labels.nexora==1`. */
  constraints: readonly string[];
  /** Spread descriptor (default `node.id`: one more workstation goes to the node with the fewest). */
  spread?: string;
  reserveMemoryBytes: number;
  reserveNanoCpus: number;
}

export interface ServiceSpecOptions extends Omit<ContainerSpecOptions, 'network' | 'publishAddress'> {
  placement: SwarmPlacement;
}

/** Mount options of the API this targets (1.41): the dockerode typings lack TmpfsOptions. */
type ServiceMount = NonNullable<Docker.ContainerSpec['Mounts']>[number] & { TmpfsOptions?: { SizeBytes?: number; Mode?: number } };

/**
 * The tmpfs mounts of container-spec.ts as Swarm mounts. Swarm's API (1.41) takes a size and a
 * mode but no flags: the node's defaults apply (nosuid, nodev; exec allowed), so /run/nexora is
 * not noexec here as it is on the local backend.
 */
const TMPFS_MOUNTS: ServiceMount[] = [
  { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 512 * 1024 ** 2, Mode: 0o1777 } },
  { Type: 'tmpfs', Source: '', Target: '/run/nexora', TmpfsOptions: { SizeBytes: 4 * 1024 ** 2, Mode: 0o1777 } },
  { Type: 'tmpfs', Source: '', Target: '/home/nexora', TmpfsOptions: { SizeBytes: 512 * 1024 ** 2, Mode: 0o1777 } },
];

/**
 * A session's workstation as a Swarm service of one replica, derived from the local backend's
 * container spec so that image, user, environment, labels, health check, limits and the
 * workspace mounts cannot drift between the two backends. What Swarm cannot express is said
 * where it is handled: no-new-privileges is the nodes' daemon default (`dockerd
 * --no-new-privileges`, checked by `nexora doctor`); VNC is published in host mode on the node
 * (no routing mesh: it needs IPVS, and it would publish on every node), on the cluster's
 * addresses only as far as the node's firewall says (docs/swarm.md).
 */
export function buildServiceSpec(options: ServiceSpecOptions): Docker.CreateServiceOptions {
  const container = buildContainerSpec({ ...options, network: 'unused' });
  const host = container.HostConfig ?? {};
  const labels = container.Labels ?? {};
  const resources = {
    Limits: { NanoCPUs: host.NanoCpus ?? 0, MemoryBytes: host.Memory ?? 0, Pids: host.PidsLimit ?? 0 },
    Reservations: { NanoCPUs: options.placement.reserveNanoCpus, MemoryBytes: options.placement.reserveMemoryBytes },
  };
  const health = container.Healthcheck;
  const mounts: ServiceMount[] = [
    ...(host.Mounts ?? []).map((mount) => ({ Type: mount.Type, Source: mount.Source, Target: mount.Target, ReadOnly: mount.ReadOnly ?? false })),
    ...TMPFS_MOUNTS,
    // Chromium's shared memory: Swarm has no ShmSize.
    { Type: 'tmpfs', Source: '', Target: '/dev/shm', TmpfsOptions: { SizeBytes: host.ShmSize ?? 256 * 1024 ** 2, Mode: 0o1777 } },
  ];
  return {
    Name: options.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: options.image,
        Labels: labels,
        Env: container.Env ?? [],
        User: container.User ?? '',
        Dir: container.WorkingDir ?? '/workspace',
        Hostname: container.Hostname ?? 'workstation',
        Init: true,
        ReadOnly: true,
        CapabilityDrop: ['ALL'],
        Mounts: mounts,
        StopGracePeriod: 2_000_000_000,
        ...(health ? { HealthCheck: health } : {}),
      },
      Resources: resources,
      // A workstation that stops is a session problem, handled by the health monitor by policy:
      // Swarm must not quietly start a fresh desktop (without its password) elsewhere.
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: {
        Constraints: [...options.placement.constraints],
        Preferences: [{ Spread: { SpreadDescriptor: options.placement.spread ?? 'node.id' } }],
      },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: [{ Protocol: 'tcp', TargetPort: options.vncPort, PublishedPort: options.vncPort, PublishMode: 'host' }],
    },
  };
}
