import { describeError } from '../../errors.js';
import { loadSettings, type PortRange } from '../../settings.js';
import { isLocalPortFree, maskDatabaseUrl } from '../../store/index.js';
import { readStore } from './db.js';
import { createDockerClient, pingDocker } from '../../workstation/docker/docker-client.js';
import { findImage, listImages, workstationImageTag } from '../../workstation/image/index.js';
import { loadSessionConfig } from '../../sessions/session-config.js';
import { checkCluster, type ClusterCheck } from '../../workstation/swarm/cluster-doctor.js';
import { checkDockerEgress } from '../../workstation/docker/egress-check.js';

/** One line of `nexora doctor`'s report. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** A warning does not fail the run. */
  warning?: boolean;
}

export type Check = () => Promise<CheckResult>;

function imageCheck(): Check {
  return async () => {
    const docker = createDockerClient();
    try {
      await pingDocker(docker, { timeoutMs: 3000 });
    } catch {
      return { name: 'Workstation image', ok: false, detail: 'not checked: the Docker engine is not reachable', fix: 'start Docker first (see above)' };
    }
    const tag = workstationImageTag();
    const image = await findImage(docker, tag);
    if (image) return { name: 'Workstation image', ok: true, detail: `${tag} is present and current` };
    const others = (await listImages(docker)).flatMap((candidate) => candidate.tags);
    return {
      name: 'Workstation image',
      ok: false,
      detail: others.length > 0 ? `${tag} is not built; older definitions are: ${others.join(', ')}` : `${tag} is not built`,
      fix: 'build it with `nexora image build` (about a minute; needs mmdebstrap), or `nexora image build --dockerfile` where base images can be pulled',
    };
  };
}

/**
 * The store as the running server holds it (only one process may open the embedded database,
 * so opening it here would fail whenever a server runs); the store itself when none runs.
 */
function databaseCheck(): Check {
  return async () => {
    const server = process.env.DATABASE_URL ? maskDatabaseUrl(process.env.DATABASE_URL) : undefined;
    try {
      const status = await readStore({ migrate: false });
      const pending = status.pending.length;
      return {
        name: 'Database',
        ok: true,
        detail: `${status.engine === 'pglite' ? 'embedded PGlite at' : 'PostgreSQL at'} ${status.location}${status.through === 'server' ? ' (held by the running Nexora server)' : ''}, ${status.applied.length} migration${status.applied.length === 1 ? '' : 's'} applied${pending ? `, ${pending} pending (applied on first use, or \`nexora db migrate\`)` : ''}`,
      };
    } catch (error) {
      return {
        name: 'Database',
        ok: false,
        detail: server ? `cannot use the PostgreSQL server at ${server}: ${describeError(error)}` : describeError(error),
        fix: server ? 'check DATABASE_URL and that the server accepts connections, or unset it to use the embedded database' : 'see the message above',
      };
    }
  };
}

async function countFree(range: PortRange): Promise<number> {
  let free = 0;
  for (let port = range[0]; port <= range[1]; port++) if (await isLocalPortFree(port)) free++;
  return free;
}

function portsCheck(): Check {
  return async () => {
    let settings;
    try {
      settings = loadSettings();
    } catch (error) {
      return { name: 'Ports', ok: false, detail: describeError(error) };
    }
    const [vncFree, cdpFree] = [await countFree(settings.vncPorts), await countFree(settings.cdpPorts)];
    const size = (range: PortRange): number => range[1] - range[0] + 1;
    const detail = `VNC ${settings.vncPorts.join('-')}: ${vncFree} of ${size(settings.vncPorts)} free; CDP ${settings.cdpPorts.join('-')}: ${cdpFree} of ${size(settings.cdpPorts)} free on 127.0.0.1`;
    if (vncFree === 0 || cdpFree === 0) {
      return { name: 'Ports', ok: false, detail, fix: 'stop sessions (`nexora session list`, `nexora session stop ID`, `nexora session gc`) or choose other ranges with NEXORA_VNC_PORTS / NEXORA_CDP_PORTS' };
    }
    return { name: 'Ports', ok: true, detail };
  };
}

/** With NEXORA_BACKEND=swarm: the manager, the nodes, the image on each, the nodes' hardening. */
function swarmChecks(): Check[] {
  let config;
  try {
    config = loadSessionConfig();
  } catch (error) {
    return [() => Promise.resolve({ name: 'Swarm', ok: false, detail: describeError(error), fix: 'fix the setting named above' })];
  }
  const swarm = config.swarm;
  if (!swarm) return [];
  let report: Promise<ClusterCheck[]> | undefined;
  const results = (): Promise<ClusterCheck[]> => (report ??= checkCluster({ config: swarm, image: process.env.NEXORA_WORKSTATION_IMAGE || workstationImageTag() }));
  return [0, 1, 2, 3, 4, 5].map((index) => async () => {
    const line = (await results())[index];
    return line ?? { name: 'Swarm', ok: true, detail: 'not checked (see the manager line)', warning: true };
  });
}

/** With the local Docker backend: what keeps workstations off the host and link-local addresses. */
function egressChecks(): Check[] {
  let config;
  try {
    config = loadSessionConfig();
  } catch {
    // The swarm checks report a bad setting.
    return [];
  }
  if (config.swarm) return [];
  const { network, networkName } = config;
  return [
    async () => {
      const docker = createDockerClient();
      try {
        await pingDocker(docker, { timeoutMs: 3000 });
      } catch {
        return { name: 'Workstation egress', ok: false, detail: 'not checked: the Docker engine is not reachable', fix: 'start Docker first (see above)' };
      }
      return checkDockerEgress({ docker, kind: network, networkName });
    },
  ];
}

/** Checks of the image, the database and the port ranges, and of the workstations' egress (on the swarm, of the cluster). */
export function doctorExtraChecks(): Check[] {
  return [imageCheck(), databaseCheck(), portsCheck(), ...egressChecks(), ...swarmChecks()];
}
