import { execFile } from 'node:child_process';
import { describeError } from '../../errors.js';

export type BridgeGuardResult = { guarded: true } | { guarded: false; reason: string };

const guarded = new Set<string>();
const RULE_COMMENT = 'nexora: isolated workstations do not reach the host';

/**
 * Drops new connections from an isolated network's bridge to the host itself (the INPUT chain):
 * without it a workstation reaches every host service listening on all interfaces through its
 * gateway address. Replies to the host's own connections (VNC through the published port) are
 * not new, so they pass. Needs root and iptables on the Docker host; without them the isolation
 * is partial and the result says why, for the caller to tell the user.
 */
export async function guardIsolatedBridge(bridge: string, options: { timeoutMs?: number } = {}): Promise<BridgeGuardResult> {
  if (guarded.has(bridge)) return { guarded: true };
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) return { guarded: false, reason: `the bridge name ${JSON.stringify(bridge)} is not an interface name` };
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { guarded: false, reason: 'Nexora is not running as root, so it cannot add the host firewall rule' };
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return { guarded: false, reason: 'the Docker engine is on another host, whose firewall Nexora does not manage' };
  const rule = ['INPUT', '-i', bridge, '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP', '-m', 'comment', '--comment', RULE_COMMENT];
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const present = await iptables(['-w', '5', '-C', ...rule], timeoutMs).then(
      () => true,
      () => false,
    );
    if (!present) await iptables(['-w', '5', '-I', ...rule], timeoutMs);
    guarded.add(bridge);
    return { guarded: true };
  } catch (error) {
    return { guarded: false, reason: `iptables failed: ${describeError(error)}` };
  }
}

function iptables(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('iptables', args, { timeout: timeoutMs }, (error, _stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve();
    });
  });
}

/** Takes the rule out again (for tests that remove their own networks); a missing rule is fine. */
export async function removeBridgeGuard(bridge: string, options: { timeoutMs?: number } = {}): Promise<void> {
  guarded.delete(bridge);
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return;
  await iptables(['-w', '5', '-D', 'INPUT', '-i', bridge, '-m', 'conntrack', '--ctstate', 'NEW,INVALID', '-j', 'DROP', '-m', 'comment', '--comment', RULE_COMMENT], options.timeoutMs ?? 10_000).catch(() => undefined);
}
