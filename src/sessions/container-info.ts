import type { SessionRecord } from '../store/index.js';
import type { ManagedContainer } from '../workstation/backend.js';

/** The seed's ContainerInfo: what a caller needs to know about a session's workstation. */
export interface ContainerInfo {
  /** Docker container id. */
  id: string;
  /** Docker container name. */
  name: string;
  vncPort: number;
  cdpPort: number;
  /** Session id. */
  session: string;
  /** The workstation reported READY and its container runs. */
  ready: boolean;
  /** The host directory mounted at /workspace. */
  workingDir: string;
  /** The cluster node the workstation runs on (swarm backend only). */
  node?: string;
  /** Where its VNC port is reached, when not the backend's default host (swarm: the node's address). */
  vncHost?: string;
}

export function toInfo(session: SessionRecord, container: ManagedContainer, ready: boolean): ContainerInfo {
  return {
    id: container.id,
    name: container.name,
    vncPort: container.vncPort || (session.vncPort ?? 0),
    cdpPort: container.cdpPort || (session.cdpPort ?? 0),
    session: session.id,
    ready,
    workingDir: container.workspaceDir || (session.workspaceDir ?? ''),
    ...(container.node ? { node: container.node } : {}),
    ...(container.vncHost ? { vncHost: container.vncHost } : {}),
  };
}
