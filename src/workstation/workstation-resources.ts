/**
 * What a workstation is given, whichever engine runs it: its resource limits and the kind of
 * network it sits on. Engine-neutral, so configuration and `sessions/` need no engine folder.
 */

/** Resource limits of one workstation container. */
export interface WorkstationLimits {
  memoryBytes: number;
  /** CPU share in units of 1e-9 CPUs (Docker's NanoCpus): 1 CPU = 1e9. */
  nanoCpus: number;
  pidsLimit: number;
  /** Size of /dev/shm (Chromium's shared memory). */
  shmBytes: number;
}

export const DEFAULT_LIMITS: WorkstationLimits = {
  memoryBytes: 1024 * 1024 * 1024,
  nanoCpus: 1_000_000_000,
  pidsLimit: 512,
  shmBytes: 256 * 1024 * 1024,
};

/**
 * `bridge`: outside access (through NAT), no traffic between workstations. `isolated`:
 * additionally no route out (no masquerading). On both, where Nexora may set the host's
 * firewall, nothing from the workstations to the host itself (services listening on all
 * interfaces would otherwise answer on the gateway address and the host's other addresses)
 * nor to link-local addresses (cloud metadata), while the ports published on the host's
 * loopback still work. (Docker's `--internal` networks cannot publish ports, so they cannot
 * carry VNC.)
 */
export type WorkstationNetworkKind = 'bridge' | 'isolated';
