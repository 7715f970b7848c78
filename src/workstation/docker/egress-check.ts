import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { describeError } from '../../errors.js';
import type { WorkstationNetworkKind } from '../workstation-resources.js';
import { engineInfo } from './engine-requests.js';
import { bridgeRulesPresent, egressRuleCommands, firewallAccess } from './host-firewall.js';
import { bridgeOf, networkName, workstationBridgeName } from './networks.js';

/** One line of `nexora doctor` about what keeps workstations off the host and link-local addresses. */
export interface EgressCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Not a failure: the protection is the operator's to add where Nexora cannot. */
  warning?: boolean;
}

const NAME = 'Workstation egress';

/**
 * For the local Docker backend: whether the host firewall rules that keep workstations off the
 * host's services and link-local addresses are in place (or will be at the first start), and,
 * where Nexora cannot add them (not root, remote or rootless engine, another namespace), that
 * and the exact rules for root to add.
 */
export async function checkDockerEgress(options: { docker: Docker; kind: WorkstationNetworkKind; networkName?: string | undefined; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<EgressCheck> {
  const name = options.networkName ?? networkName(options.kind);
  const signal = options.signal ?? AbortSignal.timeout(10_000);
  const out = options.kind === 'isolated' ? 'no route out (isolated)' : 'internet through NAT (bridge; NEXORA_WORKSTATION_NETWORK=isolated removes it)';
  let rootless = false;
  let bridge = workstationBridgeName(options.kind, name);
  let exists = false;
  try {
    const info = await engineInfo(options.docker, signal);
    rootless = (info.SecurityOptions ?? []).some((option) => option.includes('name=rootless'));
    const found = (await options.docker.listNetworks({ filters: { name: [name] }, abortSignal: signal })).find((network) => network.Name === name);
    if (found) {
      exists = true;
      bridge = bridgeOf(found);
    }
  } catch (error) {
    return { name: NAME, ok: false, warning: true, detail: `not checked: ${describeError(error)}` };
  }
  const rules = egressRuleCommands(bridge).join('; ');
  const access = firewallAccess({ ...(options.env ? { env: options.env } : {}), rootless });
  const exposed = `workstations on ${name} can reach the host's own services (gateway and other host addresses) and link-local addresses (169.254.169.254 metadata)`;
  if (!access.ok) return { name: NAME, ok: false, warning: true, detail: `NOT enforced: ${access.reason}; ${exposed}. ${out}`, fix: `${access.fix}. The rules: ${rules}` };
  if (!exists) return { name: NAME, ok: true, detail: `host services and link-local addresses blocked from the first start on (Nexora adds iptables rules for bridge ${bridge}); ${out}` };
  if (!existsSync(`/sys/class/net/${bridge}`)) {
    return { name: NAME, ok: false, warning: true, detail: `NOT enforced: the bridge ${bridge} is not in this process's network namespace; ${exposed}. ${out}`, fix: `run Nexora on the Docker host itself, or add there: ${rules}` };
  }
  const present = await bridgeRulesPresent(bridge);
  if (!present) return { name: NAME, ok: false, warning: true, detail: `not checked: iptables cannot list the rules; ${exposed} unless they are there`, fix: `check \`iptables -S INPUT\` works; the rules: ${rules}` };
  if (present.missing.length > 0) {
    return { name: NAME, ok: false, warning: true, detail: `NOT enforced yet on ${name}: missing ${present.missing.join(', ')}; ${exposed}. ${out}`, fix: 'restart the server (`nexora server stop`): its next session start adds them' };
  }
  return { name: NAME, ok: true, detail: `host services and link-local addresses blocked for workstations on ${name} (${present.tool} rules on bridge ${bridge}: INPUT new connections, DOCKER-USER 169.254.0.0/16; IPv6 INPUT); ${out}` };
}
