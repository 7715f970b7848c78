import { hostname } from 'node:os';

/**
 * Labels every Nexora container and network carries. Orphan detection trusts only these:
 * a container without `dev.nexora.managed` is never touched.
 */
export const LABELS = {
  managed: 'dev.nexora.managed',
  session: 'dev.nexora.session',
  workspace: 'dev.nexora.workspace',
  ownerHost: 'dev.nexora.owner.host',
  ownerPid: 'dev.nexora.owner.pid',
  ownerInstance: 'dev.nexora.owner.instance',
  pool: 'dev.nexora.pool',
  role: 'dev.nexora.role',
  vncPort: 'dev.nexora.vnc-port',
  cdpPort: 'dev.nexora.cdp-port',
  user: 'dev.nexora.user',
  /** Which store (database) manages the container: reconciliation never crosses stores. */
  store: 'dev.nexora.store',
  /** The fingerprint of the workspace's git layout its read-only mounts protect (workspace-git-layout.ts). */
  gitLayout: 'dev.nexora.git-layout',
} as const;

/** Which process created a container: lets a later run tell a live owner from a dead one. */
export interface ContainerOwner {
  host: string;
  pid: number;
  /** A random id per Nexora process, so a reused pid is not mistaken for the owner. */
  instance: string;
}

export function currentOwner(instance: string): ContainerOwner {
  return { host: hostname(), pid: process.pid, instance };
}

export function ownerLabels(owner: ContainerOwner): Record<string, string> {
  return {
    [LABELS.ownerHost]: owner.host,
    [LABELS.ownerPid]: String(owner.pid),
    [LABELS.ownerInstance]: owner.instance,
  };
}

/** Reads the owner back from a container's labels; undefined when they are incomplete. */
export function ownerFromLabels(labels: Readonly<Record<string, string>>): ContainerOwner | undefined {
  const host = labels[LABELS.ownerHost];
  const pid = Number(labels[LABELS.ownerPid]);
  const instance = labels[LABELS.ownerInstance];
  if (!host || !Number.isInteger(pid) || pid <= 0 || !instance) return undefined;
  return { host, pid, instance };
}
