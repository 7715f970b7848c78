import type Docker from 'dockerode';
import { describeError } from '../../errors.js';
import type { ManagedContainer } from '../backend.js';
import { DockerWorkstation } from '../docker/docker-workstation.js';
import type { AttachedProcess, AttachOptions, CdpEndpoint, ExecOptions, ExecResult, RfbEndpoint, Workstation, WorkstationStatus } from '../workstation.js';
import type { ClusterNode } from './cluster-nodes.js';

/** Where a service's task runs now. */
export interface TaskLocation {
  node: ClusterNode;
  /** The node's own Engine API. */
  docker: Docker;
  containerId: string;
}

interface Locator {
  locate(serviceId: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<TaskLocation>;
}

/**
 * A workstation that is a swarm service's task: the same container and channels as on the
 * local backend, reached through the Engine API of the node that runs it, VNC on that node's
 * cluster address. The task is looked up on first use and kept (a service's task is replaced
 * only by a restart, which makes a new workstation object).
 */
export class SwarmWorkstation implements Workstation {
  readonly id: string;
  readonly name: string;
  readonly sessionId: string;
  readonly workspaceDir: string;
  private readonly backend: Locator;
  private readonly container: ManagedContainer;
  private readonly vncPassword: string;
  private readonly user: string;
  private located: Promise<DockerWorkstation> | undefined;

  constructor(options: { backend: Locator; container: ManagedContainer; vncPassword: string; user: string }) {
    this.backend = options.backend;
    this.container = options.container;
    this.vncPassword = options.vncPassword;
    this.user = options.user;
    this.id = options.container.id;
    this.name = options.container.name;
    this.sessionId = options.container.sessionId;
    this.workspaceDir = options.container.workspaceDir;
  }

  /** The node this workstation runs on, once known. */
  get node(): string | undefined {
    return this.container.node;
  }

  rfb(): RfbEndpoint {
    return { host: this.container.vncHost ?? '', port: this.container.vncPort, password: this.vncPassword };
  }

  private inner(): Promise<DockerWorkstation> {
    this.located ??= this.backend.locate(this.id, { timeoutMs: 10_000 }).then(
      (location) =>
        new DockerWorkstation({
          docker: location.docker,
          id: location.containerId,
          name: this.name,
          sessionId: this.sessionId,
          workspaceDir: this.workspaceDir,
          endpointHost: location.node.address,
          vncPort: this.container.vncPort,
          cdpPort: this.container.cdpPort,
          vncPassword: this.vncPassword,
          user: this.user,
        }),
      (error: unknown) => {
        // Not cached: the next call looks again (the node may be back).
        this.located = undefined;
        throw error;
      },
    );
    return this.located;
  }

  async exec(options: ExecOptions): Promise<ExecResult> {
    return (await this.inner()).exec(options);
  }

  async attach(options: AttachOptions): Promise<AttachedProcess> {
    return (await this.inner()).attach(options);
  }

  async ensureBrowser(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<CdpEndpoint> {
    return (await this.inner()).ensureBrowser(options);
  }

  async status(options: { signal?: AbortSignal } = {}): Promise<WorkstationStatus> {
    let inner: DockerWorkstation;
    try {
      inner = await this.inner();
    } catch (error) {
      return { state: 'missing', ready: false, detail: describeError(error) };
    }
    return inner.status(options);
  }
}
