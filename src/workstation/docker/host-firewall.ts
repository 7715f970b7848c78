import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describeError } from '../../errors.js';

/** Whether the host's firewall keeps a workstation network's containers off the host and link-local addresses. */
export type BridgeGuardResult = { guarded: true; tool: string } | { guarded: false; reason: string; fix: string };

/** Whether this process can manage the Docker host's firewall at all; the reason and the fix when not. */
export type FirewallAccess = { ok: true } | { ok: false; reason: string; fix: string };

/** Every rule Nexora adds carries this comment prefix (and its bridge): how they are found, counted and removed. */
const COMMENT_PREFIX = 'nexora-egress:';
const LINK_LOCAL_V4 = '169.254.0.0/16';

interface EgressRule {
  family: 4 | 6;
  /** INPUT, or FORWARD's hook: DOCKER-USER when Docker made it, else FORWARD itself. */
  chain: 'INPUT' | 'FORWARD';
  purpose: 'host' | 'linklocal';
  /** The match and target, without the interface and comment. */
  match: string[];
}

/**
 * What keeps a workstation off the host: new connections from its bridge to any of the host's
 * own addresses (the gateway, the LAN address, 169.254.x on the host, fe80:: on the bridge) are
 * INPUT traffic and are dropped; replies to the host's own connections (VNC through the
 * published port) are not new and pass. Link-local destinations elsewhere (the cloud metadata
 * service behind the host) are FORWARD traffic and are dropped there. IPv6 link-local is never
 * forwarded by the kernel, so for IPv6 the INPUT rule is the whole of it.
 */
const RULES: readonly EgressRule[] = [
  { family: 4, chain: 'INPUT', purpose: 'host', match: ['-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP'] },
  { family: 4, chain: 'FORWARD', purpose: 'linklocal', match: ['-d', LINK_LOCAL_V4, '-j', 'DROP'] },
  { family: 6, chain: 'INPUT', purpose: 'host', match: ['-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP'] },
];

const guarded = new Map<string, string>();

/**
 * Whether Nexora can add the rules on the Docker host: it must be root on Linux, talking to a
 * local engine, which must not be rootless (a rootless engine's bridges live in rootlesskit's
 * namespace, out of the host firewall's sight). `rootless` comes from the engine's info.
 */
export function firewallAccess(options: { env?: NodeJS.ProcessEnv; rootless?: boolean } = {}): FirewallAccess {
  const env = options.env ?? process.env;
  const manual = 'or have root add the rules `nexora doctor` prints, or use NEXORA_WORKSTATION_NETWORK=isolated on a host where Nexora runs as root';
  if (process.platform !== 'linux') return { ok: false, reason: `Nexora manages the host firewall on Linux only (this is ${process.platform})`, fix: 'block the workstations\' access to the host with your engine\'s own settings (Docker Desktop keeps containers in a VM)' };
  if (env.DOCKER_HOST && !env.DOCKER_HOST.startsWith('unix://')) return { ok: false, reason: `the Docker engine is on another host (${env.DOCKER_HOST}), whose firewall Nexora does not manage`, fix: 'add the rules on that host (`nexora doctor` prints them, with the bridge\'s name)' };
  if (options.rootless) return { ok: false, reason: 'the Docker engine is rootless: its bridges are inside rootlesskit\'s network namespace, out of the host firewall\'s reach', fix: 'keep rootlesskit\'s --disable-host-loopback (its default), and block the host\'s other addresses from the rootlesskit namespace, or use a rootful engine' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'Nexora is not running as root, so it cannot add the host firewall rules', fix: `run \`nexora serve\` as root, ${manual}` };
  return { ok: true };
}

/** The iptables commands that guard a bridge, as root would type them (for doctor's fix). */
export function egressRuleCommands(bridge: string, tool = 'iptables'): string[] {
  return RULES.map((rule) => [binary(tool, rule.family), '-I', rule.chain === 'INPUT' ? 'INPUT' : 'DOCKER-USER', ...ruleArgs(bridge, rule)].join(' '));
}

/**
 * Adds the rules for one workstation bridge once (idempotent across calls, processes and
 * restarts: a rule present is kept, a duplicate is removed), in the iptables variant the
 * Docker engine itself uses (Debian ships iptables-nft and iptables-legacy side by side).
 * Rules of Nexora's bridges that no longer exist go at the same time. Without the means
 * (see firewallAccess) the result says why and what to do.
 */
export async function guardWorkstationBridge(bridge: string, options: { timeoutMs?: number; ipv6?: boolean } = {}): Promise<BridgeGuardResult> {
  const cached = guarded.get(bridge);
  if (cached) return { guarded: true, tool: cached };
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) return { guarded: false, reason: `the bridge name ${JSON.stringify(bridge)} is not an interface name`, fix: 'remove the network so that Nexora creates it' };
  const access = firewallAccess();
  if (!access.ok) return { guarded: false, reason: access.reason, fix: access.fix };
  // Root, but in another network namespace than dockerd (Nexora in a container with the socket
  // mounted, or a rootless engine): rules here would guard nothing.
  if (!existsSync(`/sys/class/net/${bridge}`)) {
    return { guarded: false, reason: `the bridge ${bridge} is not in this process's network namespace (Nexora runs in another container or namespace than dockerd, or the engine is rootless)`, fix: 'run Nexora on the Docker host itself, or add the rules there (`nexora doctor` prints them)' };
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const tool = await dockerIptables(timeoutMs);
    await pruneStaleRules(tool, timeoutMs);
    for (const rule of RULES) {
      try {
        await ensureRule(tool, bridge, rule, timeoutMs);
      } catch (error) {
        // IPv6 may be off in the kernel; then there is no IPv6 path to guard, unless the network asked for it.
        if (rule.family === 6 && !options.ipv6) continue;
        throw error;
      }
    }
    guarded.set(bridge, tool);
    return { guarded: true, tool };
  } catch (error) {
    return { guarded: false, reason: `iptables failed: ${describeError(error)}`, fix: 'check that iptables works on the Docker host (`iptables -S`), then start the session again' };
  }
}

/** Which of a bridge's rules are in place (for doctor); undefined when they cannot be read. */
export async function bridgeRulesPresent(bridge: string, options: { timeoutMs?: number } = {}): Promise<{ tool: string; missing: string[] } | undefined> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const tool = await dockerIptables(timeoutMs);
    const missing: string[] = [];
    for (const rule of RULES) {
      const lines = await listRules(binary(tool, rule.family), await forwardChain(tool, rule), timeoutMs).catch(() => undefined);
      if (lines === undefined && rule.family === 6) continue;
      if (!lines?.some((line) => line.includes(comment(bridge, rule)))) missing.push(`${binary(tool, rule.family)} ${rule.chain} ${rule.purpose}`);
    }
    return { tool, missing };
  } catch {
    return undefined;
  }
}

/** Takes a bridge's rules out again (with its network); a missing rule is fine. */
export async function removeBridgeGuard(bridge: string, options: { timeoutMs?: number } = {}): Promise<void> {
  guarded.delete(bridge);
  if (!firewallAccess().ok) return;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tool = await dockerIptables(timeoutMs).catch(() => undefined);
  if (!tool) return;
  await deleteMatching(tool, (line) => line.includes(`--comment ${COMMENT_PREFIX}${bridge}:`), timeoutMs);
}

function comment(bridge: string, rule: EgressRule): string {
  return `${COMMENT_PREFIX}${bridge}:${rule.purpose}`;
}

function ruleArgs(bridge: string, rule: EgressRule): string[] {
  return ['-i', bridge, '-m', 'comment', '--comment', comment(bridge, rule), ...rule.match];
}

function binary(tool: string, family: 4 | 6): string {
  return family === 4 ? tool : tool.replace(/^iptables/, 'ip6tables');
}

/** One rule, exactly once, at the head of its chain. */
async function ensureRule(tool: string, bridge: string, rule: EgressRule, timeoutMs: number): Promise<void> {
  const command = binary(tool, rule.family);
  const chain = await forwardChain(tool, rule);
  const count = (await listRules(command, chain, timeoutMs)).filter((line) => line.includes(`--comment ${comment(bridge, rule)}`)).length;
  if (count === 0) await run(command, ['-w', '5', '-I', chain, '1', ...ruleArgs(bridge, rule)], timeoutMs);
  // Two processes that both saw none both inserted: `-D` removes the first match, one stays.
  for (let extra = count - 1; extra > 0; extra--) await run(command, ['-w', '5', '-D', chain, ...ruleArgs(bridge, rule)], timeoutMs);
}

/** DOCKER-USER is where Docker wants users' FORWARD rules (it re-creates FORWARD's order on start). */
async function forwardChain(tool: string, rule: EgressRule): Promise<string> {
  if (rule.chain === 'INPUT') return 'INPUT';
  return (await run(binary(tool, rule.family), ['-w', '5', '-S', 'DOCKER-USER'], 5000).then(
    () => true,
    () => false,
  ))
    ? 'DOCKER-USER'
    : 'FORWARD';
}

/** Removes Nexora's rules whose bridge is gone (its network was removed without Nexora). */
async function pruneStaleRules(tool: string, timeoutMs: number): Promise<void> {
  await deleteMatching(
    tool,
    (line) => {
      const bridge = new RegExp(`--comment ${COMMENT_PREFIX}([A-Za-z0-9_.-]{1,15}):`).exec(line)?.[1];
      return bridge !== undefined && !existsSync(`/sys/class/net/${bridge}`);
    },
    timeoutMs,
  );
}

async function deleteMatching(tool: string, matches: (line: string) => boolean, timeoutMs: number): Promise<void> {
  for (const family of [4, 6] as const) {
    const command = binary(tool, family);
    for (const chain of ['INPUT', 'DOCKER-USER', 'FORWARD']) {
      const lines = await listRules(command, chain, timeoutMs).catch(() => []);
      for (const line of lines.filter(matches)) {
        // `-S` prints `-A CHAIN args…` (unquoted by listRules): the words are the args.
        const args = line.split(' ').slice(2);
        await run(command, ['-w', '5', '-D', chain, ...args], timeoutMs).catch(() => undefined);
      }
    }
  }
}

async function listRules(command: string, chain: string, timeoutMs: number): Promise<string[]> {
  const out = await run(command, ['-w', '5', '-S', chain], timeoutMs);
  // iptables-nft quotes a comment with a colon, legacy does not; Nexora's words hold no spaces,
  // so without quotes each line reads the same in both and splits into its arguments.
  return out
    .split('\n')
    .filter((line) => line.startsWith(`-A ${chain} `))
    .map((line) => line.replaceAll('"', ''));
}

let variant: Promise<string> | undefined;

/**
 * The iptables variant whose tables hold Docker's chains (nft or legacy; both can be loaded at
 * once, and a rule in the other one would not sit in DOCKER-USER); plain `iptables` when
 * neither variant's binary exists or Docker made no chains.
 */
function dockerIptables(timeoutMs: number): Promise<string> {
  variant ??= (async () => {
    for (const candidate of ['iptables-nft', 'iptables-legacy']) {
      // `-save` dumps the tables that exist; `-S` would load the other variant's empty ones.
      const has = await run(`${candidate}-save`, [], timeoutMs).then(
        (out) => /^:DOCKER-USER /m.test(out),
        () => false,
      );
      if (has) return candidate;
    }
    await run('iptables', ['-w', '5', '-S', 'INPUT'], timeoutMs);
    return 'iptables';
  })().catch((error: unknown) => {
    variant = undefined;
    throw error;
  });
  return variant;
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}
