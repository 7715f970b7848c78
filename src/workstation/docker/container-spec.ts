import type Docker from 'dockerode';
import type { CreateWorkstationOptions } from '../backend.js';
import { LABELS, ownerLabels, type ContainerOwner } from '../labels.js';
import type { WorkstationLimits } from '../workstation-resources.js';
import { gitLayoutKey, planGitProtection, type ProtectedGitPath } from '../workspace-git-layout.js';
import { workspaceMounts } from './workspace-mounts.js';

export interface ContainerSpecOptions {
  image: string;
  name: string;
  sessionId: string;
  workspaceDir: string;
  /** The git protections to mount, when the caller keeps them to check the mounts once started (planned here otherwise). */
  gitPlan?: readonly ProtectedGitPath[];
  /** The numeric user the workstation runs as (the workspace owner). */
  user: { uid: number; gid: number };
  vncPort: number;
  /** Reserved for the session's authenticated DevTools proxy on the host; never published. */
  cdpPort: number;
  /** `WIDTHxHEIGHT`, e.g. 1280x800. */
  geometry: string;
  /** Start Chromium with the container instead of on first use. */
  startChromium: boolean;
  /** The start script's own deadline for X, the VNC server and tmux (its default: 20 s). */
  startTimeoutSeconds?: number;
  network: string;
  limits: WorkstationLimits;
  owner: ContainerOwner;
  /** Set for warm-pool containers: the pool they belong to. */
  poolKey?: string;
  /** Extra labels (tests mark their containers with `dev.nexora.test=1`). */
  labels?: Readonly<Record<string, string>>;
  /** Host address the ports are published on. Only loopback is safe; tests may not change it. */
  publishAddress?: string;
}

/** What a backend knows of every workstation it creates: its image, size, limits, owner and labels. */
export interface BackendSpecDefaults {
  image: string;
  geometry?: string | undefined;
  limits: WorkstationLimits;
  owner: ContainerOwner;
  labels?: Readonly<Record<string, string>> | undefined;
}

/**
 * The spec options of one workstation, from the create request and its backend's defaults (every
 * backend builds its container or service from these). The start script gets the host's start
 * budget less a second, so its own verdict arrives before the host gives up.
 */
export function workstationSpecOptions(name: string, create: CreateWorkstationOptions, defaults: BackendSpecDefaults): Omit<ContainerSpecOptions, 'network'> {
  return {
    image: defaults.image,
    name,
    sessionId: create.sessionId,
    workspaceDir: create.workspaceDir,
    user: create.user,
    vncPort: create.vncPort,
    cdpPort: create.cdpPort,
    geometry: defaults.geometry ?? '1280x800',
    startChromium: create.startChromium ?? false,
    ...(create.startTimeoutMs !== undefined ? { startTimeoutSeconds: Math.max(1, Math.floor(create.startTimeoutMs / 1000) - 1) } : {}),
    limits: defaults.limits,
    owner: defaults.owner,
    ...(create.poolKey ? { poolKey: create.poolKey } : {}),
    ...(defaults.labels ? { labels: defaults.labels } : {}),
  };
}

/**
 * Where the container writes: everything else is the read-only image. Docker makes a tmpfs
 * noexec unless told otherwise, and a developer's scratch space must run what it builds
 * (`go run`, `cargo run`, test binaries), so /tmp and the home directory say `exec`.
 */
const TMPFS: Record<string, string> = {
  '/tmp': 'rw,exec,nosuid,nodev,mode=1777,size=512m',
  '/run/nexora': 'rw,nosuid,nodev,noexec,mode=1777,size=4m',
  '/home/nexora': 'rw,exec,nosuid,nodev,mode=1777,size=512m',
};

/**
 * The Engine API create request for a workstation, with the security defaults of
 * DESIGN.md decision 11 fixed in: non-root user, read-only root, all capabilities dropped,
 * no-new-privileges, limits, ports on loopback only, no Docker socket, `--init`. Nothing
 * secret: the VNC password reaches the container later through an exec's stdin
 * (writeVncPassword), since `docker inspect` shows the environment and every exec inherits it.
 */
export function buildContainerSpec(options: ContainerSpecOptions): Docker.ContainerCreateOptions {
  const publishAddress = options.publishAddress ?? '127.0.0.1';
  const vnc = `${options.vncPort}/tcp`;
  const labels: Record<string, string> = {
    ...options.labels,
    [LABELS.managed]: '1',
    [LABELS.session]: options.sessionId,
    [LABELS.workspace]: options.workspaceDir,
    [LABELS.role]: options.poolKey ? 'pool' : 'session',
    [LABELS.vncPort]: String(options.vncPort),
    [LABELS.cdpPort]: String(options.cdpPort),
    [LABELS.user]: `${options.user.uid}:${options.user.gid}`,
    ...ownerLabels(options.owner),
  };
  if (options.poolKey) labels[LABELS.pool] = options.poolKey;
  // The git protections are fixed at creation: a pool claim compares them with the workspace's now.
  const gitPlan = options.gitPlan ?? planGitProtection(options.workspaceDir);
  labels[LABELS.gitLayout] = gitLayoutKey(gitPlan);
  return {
    name: options.name,
    Image: options.image,
    User: `${options.user.uid}:${options.user.gid}`,
    WorkingDir: '/workspace',
    Hostname: 'workstation',
    Env: [
      `NEXORA_GEOMETRY=${options.geometry}`,
      `NEXORA_VNC_PORT=${options.vncPort}`,
      `NEXORA_CDP_PORT=${options.cdpPort}`,
      `NEXORA_CHROMIUM=${options.startChromium ? '1' : '0'}`,
      ...(options.startTimeoutSeconds !== undefined ? [`NEXORA_START_TIMEOUT=${options.startTimeoutSeconds}`] : []),
      'DISPLAY=:1',
      'HOME=/home/nexora',
    ],
    Labels: labels,
    // Only VNC is published. The DevTools port stays on the container's loopback: the host
    // reaches it by a stream over the Engine API (src/tools/browser/cdp-proxy.ts).
    ExposedPorts: { [vnc]: {} },
    StopTimeout: 2,
    // Docker's health check feeds the health monitor through the event stream; the start
    // script writes READY only once X, the VNC server and tmux answer.
    Healthcheck: {
      Test: ['CMD-SHELL', 'grep -q ^READY /run/nexora/status && tmux has-session -t main 2>/dev/null'],
      // Every probe is an exec: with a hundred workstations on two cores, not too often.
      Interval: 30_000_000_000,
      Timeout: 5_000_000_000,
      Retries: 3,
      StartPeriod: 30_000_000_000,
    },
    HostConfig: {
      Init: true,
      ReadonlyRootfs: true,
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Memory: options.limits.memoryBytes,
      MemorySwap: options.limits.memoryBytes,
      NanoCpus: options.limits.nanoCpus,
      PidsLimit: options.limits.pidsLimit,
      ShmSize: options.limits.shmBytes,
      Tmpfs: { ...TMPFS },
      Mounts: workspaceMounts(options.workspaceDir, gitPlan),
      PortBindings: {
        [vnc]: [{ HostIp: publishAddress, HostPort: String(options.vncPort) }],
      },
      NetworkMode: options.network,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
    },
  };
}
