import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { nexoraPaths } from '../paths.js';
import { MasterKeyStore } from '../secrets/master-key.js';
import { openText, sealText } from '../secrets/seal.js';
import { GitBaselines } from './git-baselines.js';
import { holdSecretsLock } from '../secrets/provider-key-store.js';
import { loadSettings } from '../settings.js';
import { EventStore, openDatabase, PortAllocator, SessionStore, type Db, type PortRange } from '../store/index.js';
import type { WorkstationLimits, WorkstationNetworkKind } from '../workstation/workstation-resources.js';
import { LABELS } from '../workstation/labels.js';
import { connectWorkstationEngine, createWorkstationBackend } from '../workstation/open-backend.js';
import { workstationImageTag } from '../workstation/image/index.js';
import { loadSessionConfig, type SessionConfig } from './session-config.js';
import { Reconciler } from './reconcile.js';
import { SessionLifecycle, type SessionLifecycleOptions, type SessionRecordFields } from './session-lifecycle.js';
import { SessionManager } from './session-manager.js';
import type { PasswordSealer } from './vnc-password.js';
import { WarmPool } from './warm-pool.js';
import { thisProcessOwner } from './session-owner.js';

export interface OpenSessionManagerOptions {
  env?: NodeJS.ProcessEnv;
  /** An open database (the caller closes it); otherwise one is opened from the environment. */
  db?: Db;
  docker?: Docker;
  /** The workstation image; default: the tag of the current image definition. */
  image?: string;
  /** Extra labels on every container, which also scope orphan detection (tests use their own). */
  labels?: Readonly<Record<string, string>>;
  namePrefix?: string;
  networkName?: string;
  network?: WorkstationNetworkKind;
  limits?: Partial<WorkstationLimits>;
  vncRange?: PortRange;
  cdpRange?: PortRange;
  sealer?: PasswordSealer;
  startTimeoutMs?: number;
  /** Record values (user, model, provider) for sessions started without them. */
  defaults?: Partial<SessionRecordFields>;
  /** Applied to every lifecycle event's payload (the provider keys' redactor). */
  redact?: (payload: unknown) => unknown;
}

export interface OpenedSessionManager {
  manager: SessionManager;
  config: SessionConfig;
  close: () => Promise<void>;
}

/**
 * Everything a command that manages sessions needs, from the environment: the store, the
 * Docker engine (DOCKER_HOST), the image, the master key for VNC passwords, port ranges.
 */
export async function openSessionManager(options: OpenSessionManagerOptions = {}): Promise<OpenedSessionManager> {
  const env = options.env ?? process.env;
  const settings = loadSettings(env);
  const config = loadSessionConfig(env);
  const docker = await connectWorkstationEngine({ env, ...(options.docker ? { docker: options.docker } : {}), ...(config.swarm ? { swarm: config.swarm } : {}) });
  // NEXORA_WORKSTATION_IMAGE pins an image (one built elsewhere, or an older definition).
  // Checked when a workstation is created, not here: listing or stopping sessions must work
  // while the image is being rebuilt under a new tag.
  const image = options.image ?? (env.NEXORA_WORKSTATION_IMAGE || workstationImageTag());
  const db = options.db ?? (await openDatabase({ env, waitMs: 10_000 }));
  const owner = thisProcessOwner();
  const labels = { ...config.containerLabels, [LABELS.store]: storeScope(db.location), ...options.labels };
  const namePrefix = options.namePrefix ?? config.containerPrefix;
  const backend = createWorkstationBackend({
    env,
    docker,
    image,
    owner,
    labels,
    limits: { ...config.limits, ...options.limits },
    ...(namePrefix ? { namePrefix } : {}),
    endpointHost: config.endpointHost,
    network: options.network ?? config.network,
    ...((options.networkName ?? config.networkName) ? { networkName: options.networkName ?? config.networkName } : {}),
    ...(config.swarm ? { swarm: config.swarm } : {}),
  });
  const manager = createSessionManager({
    db,
    backend,
    ports: new PortAllocator({ vncRange: options.vncRange ?? settings.vncPorts, cdpRange: options.cdpRange ?? settings.cdpPorts }),
    sealer: options.sealer ?? masterKeySealer(env),
    owner,
    startTimeoutMs: options.startTimeoutMs ?? config.startTimeoutMs,
    gitBaselines: new GitBaselines({ dir: nexoraPaths(env).gitBaselines }),
    ...(options.defaults ? { defaults: options.defaults } : {}),
    ...(options.redact ? { redact: options.redact } : {}),
  });
  return {
    manager,
    config,
    close: async () => {
      if (!options.db) await db.close();
    },
  };
}

/**
 * The session service wired up: the lifecycle over the store and the backend, the warm pool
 * and the reconciler on the lifecycle, the manager over all three. Nothing below the manager
 * refers to it, so there is no cycle to break.
 */
export function createSessionManager(
  options: Omit<SessionLifecycleOptions, 'sessions' | 'events'> & { defaults?: Partial<SessionRecordFields>; redact?: (payload: unknown) => unknown },
): SessionManager {
  const { defaults, redact, ...rest } = options;
  const storeOptions = redact ? { redact } : {};
  const lifecycle = new SessionLifecycle({ ...rest, sessions: new SessionStore(options.db, storeOptions), events: new EventStore(options.db, storeOptions) });
  return new SessionManager({
    lifecycle,
    pool: new WarmPool({ lifecycle }),
    reconciler: new Reconciler({ db: options.db, ports: options.ports, lifecycle }),
    ...(defaults ? { defaults } : {}),
  });
}

/** Seals VNC passwords with the master key (created on first use). */
export function masterKeySealer(env: NodeJS.ProcessEnv = process.env): PasswordSealer {
  const keys = new MasterKeyStore(nexoraPaths(env));
  return {
    seal: (plaintext, context) => sealText(keys.load().current, plaintext, context),
    open: (sealed, context) => openText(keys.load({ create: false }), sealed, context),
    lock: (tx) => holdSecretsLock(tx),
  };
}

/** A short stable id of the store, so that two stores never reconcile each other's containers. */
export function storeScope(location: string): string {
  return createHash('sha256').update(location).digest('hex').slice(0, 16);
}
