import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedSession } from '../../src/sessions/session-manager.js';
import { guardWorkstationBridge, removeBridgeGuard } from '../../src/workstation/docker/host-firewall.js';
import { bridgeOf, removeWorkstationNetwork } from '../../src/workstation/docker/networks.js';
import { eventually } from '../fixtures/eventually.js';
import { freePort } from '../fixtures/free-port.js';
import { runCli } from '../fixtures/run-cli.js';
import { createSessionEnv, WORKSPACE_GID, WORKSPACE_UID, type SessionEnv } from '../fixtures/session-env.js';

// The attacker is a process in a real workstation on the default (`bridge`) network. It tries
// the host's own services through the gateway and every other host address, a link-local
// address on the host (as the cloud metadata service would be) and a link-local address behind
// the host (forwarded, as a metadata service on the provider's network is). Every target is a
// listener this test runs on this machine; what the listeners saw is the verdict.

const sh = promisify(execFile);
const METADATA = '169.254.169.254';

let world: SessionEnv;
let close: () => Promise<void>;
let started: StartedSession;
let bridge: string;
let gateway: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  world = await createSessionEnv('egress');
  const opened = await world.open();
  close = opened.close;
  const workspace = world.workspace();
  started = await opened.manager.start({ workspaceDir: workspace, usePool: false });
  const network = await world.docker.getNetwork(world.networkName).inspect();
  bridge = bridgeOf(network);
  gateway = network.IPAM?.Config?.[0]?.Gateway ?? '';
  writeFileSync(join(workspace, 'attack.py'), ATTACKER);
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await close?.();
  await world?.dispose();
  if (bridge) expect(await ruleLines(bridge)).toEqual([]);
}, 60_000);

/** A TCP listener on the host that remembers who connected. */
async function listen(host: string, options: { ipv6Only?: boolean } = {}): Promise<{ port: number; peers: string[] }> {
  const peers: string[] = [];
  const server: Server = createServer((socket) => {
    peers.push(`${socket.remoteAddress ?? '?'}`);
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, ipv6Only: options.ipv6Only ?? false }, resolve);
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, peers };
}

/** `ip addr add ADDRESS/32 dev lo` for the test; removed afterwards only if this test added it. */
async function addToLoopback(address: string): Promise<void> {
  const present = (await sh('ip', ['-4', 'addr', 'show', 'dev', 'lo'])).stdout.includes(`inet ${address}/`);
  if (present) return;
  await sh('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  cleanups.push(() => sh('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']));
}

/**
 * A link-local address that is not the host's: a network namespace behind a veth pair, with a
 * listener in it. Traffic from a workstation to it is forwarded by the host (FORWARD), as it
 * would be to a metadata service on the provider's network. The listener prints each peer.
 */
async function forwardedLinkLocal(): Promise<{ address: string; port: number; peers: () => string[] }> {
  const id = randomBytes(2).toString('hex');
  const namespace = `nxeg-${id}`;
  const [hostEnd, nsEnd] = [`nxegh${id}`, `nxegn${id}`];
  const net = `169.254.${100 + (parseInt(id, 16) % 100)}`;
  const base = (parseInt(id, 16) % 60) * 4;
  const address = `${net}.${base + 2}`;
  await sh('ip', ['netns', 'add', namespace]);
  cleanups.push(() => sh('ip', ['netns', 'del', namespace]));
  await sh('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd, 'netns', namespace]);
  cleanups.push(() => sh('ip', ['link', 'del', hostEnd]));
  await sh('ip', ['addr', 'add', `${net}.${base + 1}/30`, 'dev', hostEnd]);
  await sh('ip', ['link', 'set', hostEnd, 'up']);
  for (const args of [['addr', 'add', `${address}/30`, 'dev', nsEnd], ['link', 'set', nsEnd, 'up'], ['link', 'set', 'lo', 'up']]) await sh('ip', ['netns', 'exec', namespace, 'ip', ...args]);
  const script = `const s=require('net').createServer(c=>{console.log('PEER '+c.remoteAddress);c.destroy()});s.listen(0,'${address}',()=>console.log('PORT '+s.address().port))`;
  const child: ChildProcess = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const port = await eventually(() => Promise.resolve(Number(/^PORT (\d+)$/m.exec(out)?.[1] ?? 0)), (value) => value > 0, 'the forwarded listener to listen', 10_000);
  return { address, port, peers: () => [...out.matchAll(/^PEER (.+)$/gm)].map((match) => match[1] ?? '') };
}

/** Runs the attacker in the workstation: it returns once every attempt has finished (its exit status). */
async function attack(targets: readonly string[]): Promise<Record<string, string>> {
  const result = await started.workstation.exec({ cmd: `python3 /workspace/attack.py ${targets.map((target) => `'${target}'`).join(' ')}`, timeoutMs: 60_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Every line of Nexora's rules for a bridge, in both iptables variants and both families. */
async function ruleLines(name: string): Promise<string[]> {
  const lines: string[] = [];
  // The -save forms list the tables that exist, without loading a variant's tables that do not.
  for (const tool of ['iptables-nft', 'iptables-legacy', 'ip6tables-nft', 'ip6tables-legacy']) {
    const out = await sh(`${tool}-save`, []).then(
      (done) => done.stdout,
      () => '',
    );
    lines.push(...out.split('\n').filter((line) => line.includes(`nexora-egress:${name}:`)).map((line) => `${tool} ${line.replaceAll('"', '')}`));
  }
  return lines;
}

/** What a fresh process (a restarted server) does to the rules. */
async function guardInFreshProcess(name: string): Promise<string> {
  const module = fileURLToPath(new URL('../../src/workstation/docker/host-firewall.ts', import.meta.url));
  const code = `const m = await import(${JSON.stringify(module)}); console.log(JSON.stringify(await m.guardWorkstationBridge(${JSON.stringify(name)})));`;
  const { stdout } = await sh(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { timeout: 60_000 });
  return stdout.trim();
}

/** The group that may use the Docker socket (a non-root Nexora is in it). */
async function dockerGroup(): Promise<string> {
  return (await sh('stat', ['-c', '%g', '/var/run/docker.sock'])).stdout.trim();
}

function hostAddresses(): { v4: string[]; v6: string[] } {
  const all = Object.entries(networkInterfaces()).flatMap(([name, list]) => (list ?? []).filter((entry) => !entry.internal).map((entry) => ({ name, ...entry })));
  return {
    v4: [...new Set(all.filter((entry) => entry.family === 'IPv4').map((entry) => entry.address))],
    // A link-local IPv6 address needs the workstation's own interface as its scope.
    v6: [...new Set(all.filter((entry) => entry.family === 'IPv6').map((entry) => (entry.address.startsWith('fe80') ? `${entry.address}%eth0` : entry.address)))],
  };
}

describe('a workstation on the default network cannot reach the host or link-local addresses', () => {
  it('reaches no host listener through the gateway or any host address, and nothing link-local, on the host or behind it', async () => {
    const onAll = await listen('0.0.0.0');
    const onAll6 = await listen('::', { ipv6Only: true });
    await addToLoopback(METADATA);
    const metadata = await listen(METADATA);
    const behind = await forwardedLinkLocal();
    const { v4, v6 } = hostAddresses();
    expect(v4).toContain(gateway);
    const targets = [
      ...v4.map((address) => `${address}:${onAll.port}`),
      ...v6.map((address) => `[${address}]:${onAll6.port}`),
      `${METADATA}:${metadata.port}`,
      `${behind.address}:${behind.port}`,
    ];

    const outcome = await attack(targets);
    // Each attempt ended, and not by a connection: the packets were dropped (IPv4 times out).
    expect(Object.keys(outcome).sort()).toEqual([...targets].sort());
    for (const target of targets) expect(outcome[target], target).not.toBe('open');
    for (const target of targets.filter((entry) => !entry.startsWith('['))) expect(outcome[target], target).toBe('timeout');
    expect({ host: onAll.peers, host6: onAll6.peers, metadata: metadata.peers, behind: behind.peers() }).toEqual({ host: [], host6: [], metadata: [], behind: [] });
    // Docker's embedded DNS answers inside the workstation, not through the host's INPUT: names resolve.
    const resolved = await started.workstation.exec({ cmd: `getent hosts ${started.info.name}` });
    expect(resolved.stdout).toContain(started.info.name);

    // The same attack with this bridge's rules taken out reaches every listener: the probe
    // works, and it is the rules that stopped it. Then they go back.
    await removeBridgeGuard(bridge);
    try {
      const open = await attack([`${gateway}:${onAll.port}`, `${METADATA}:${metadata.port}`, `${behind.address}:${behind.port}`]);
      expect(Object.values(open)).toEqual(['open', 'open', 'open']);
      await eventually(() => Promise.resolve([onAll.peers.length, metadata.peers.length, behind.peers().length]), (counts) => counts.every((count) => count > 0), 'the unguarded attempts to arrive');
    } finally {
      expect(await guardWorkstationBridge(bridge)).toMatchObject({ guarded: true });
    }
    const before = [onAll.peers.length, metadata.peers.length, behind.peers().length];
    const again = await attack([`${gateway}:${onAll.port}`, `${METADATA}:${metadata.port}`, `${behind.address}:${behind.port}`]);
    expect(Object.values(again)).toEqual(['timeout', 'timeout', 'timeout']);
    expect([onAll.peers.length, metadata.peers.length, behind.peers().length]).toEqual(before);
  }, 180_000);

  it('has each rule once, in the variant Docker uses, through restarts and a duplicate, and prunes the rules of a removed bridge', async () => {
    const rules = await ruleLines(bridge);
    expect(rules).toHaveLength(3);
    expect(rules.filter((line) => / -A INPUT /.test(line))).toHaveLength(2);
    expect(rules.filter((line) => / -A DOCKER-USER .*169\.254\.0\.0\/16/.test(line))).toHaveLength(1);
    const tool = rules[0]?.split(' ')[0]?.replace(/^ip6/, 'ip') ?? '';
    // Two restarts of the server: no second copy.
    for (let restart = 0; restart < 2; restart++) expect(JSON.parse(await guardInFreshProcess(bridge))).toEqual({ guarded: true, tool });
    expect(await ruleLines(bridge)).toEqual(rules);
    // Two processes that raced both inserted: the next guard leaves one.
    const input = rules.find((line) => line.startsWith(`${tool} -A INPUT`)) ?? '';
    // `TOOL -A INPUT args…` as listed: the same args again.
    await sh(tool, ['-w', '5', '-I', 'INPUT', ...input.split(' ').slice(3)]);
    expect((await ruleLines(bridge)).length).toBe(4);
    await guardInFreshProcess(bridge);
    expect((await ruleLines(bridge)).sort()).toEqual([...rules].sort());
    // A bridge that no longer exists (its network removed behind Nexora's back) loses its rules.
    const gone = `nxbr-${randomBytes(4).toString('hex')}`;
    await sh(tool, ['-w', '5', '-I', 'INPUT', '-i', gone, '-m', 'comment', '--comment', `nexora-egress:${gone}:host`, '-j', 'DROP']);
    cleanups.push(() => removeBridgeGuard(gone));
    expect(await ruleLines(gone)).toHaveLength(1);
    await guardInFreshProcess(bridge);
    expect(await ruleLines(gone)).toEqual([]);
  }, 120_000);

  it('a server that cannot add the rules (not root) warns at its first session start, once', async () => {
    const networkName = `${world.networkName}-nonroot`;
    cleanups.push(() => removeWorkstationNetwork(world.docker, networkName));
    // The run's own directory is root's alone: this user needs one it can reach.
    const outer = mkdtempSync(join(tmpdir(), 'nexora-egress-nonroot-'));
    cleanups.push(() => Promise.resolve(rmSync(outer, { recursive: true, force: true })));
    chmodSync(outer, 0o755);
    const workspace = join(outer, 'ws');
    mkdirSync(workspace);
    chownSync(workspace, WORKSPACE_UID, WORKSPACE_GID);
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const config = { image: world.image, labels: world.labels, namePrefix: `${world.namePrefix}-nr`, networkName, workspace, ports };
    const child = fileURLToPath(new URL('./egress-child.ts', import.meta.url));
    const { stdout } = await sh('setpriv', [`--reuid=${WORKSPACE_UID}`, `--regid=${WORKSPACE_GID}`, `--groups=${await dockerGroup()}`, process.execPath, '--import', 'tsx', child, JSON.stringify(config)], { timeout: 120_000, env: { ...process.env, HOME: workspace } });
    const [first, second] = stdout.trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(first).toHaveLength(1);
    expect(first?.[0]).toMatch(new RegExp(`^workstations on ${networkName} can reach the host's own services .* link-local addresses such as the cloud metadata service 169\\.254\\.169\\.254, because Nexora is not running as root, so it cannot add the host firewall rules: run \`nexora serve\` as root`));
    expect(second).toEqual([]);
    // It could not, and did not, touch the firewall.
    const network = await world.docker.getNetwork(networkName).inspect();
    expect(await ruleLines(bridgeOf(network))).toEqual([]);
    expect(await world.containers().then((list) => list.filter((container) => container.Names.some((name) => name.includes('-nr-'))))).toEqual([]);
  }, 180_000);

  it('doctor says the egress protection is in place, and as another user says it is not and gives the rules', async () => {
    const asRoot = await runCli(['doctor'], { env: { ...world.env, NEXORA_NETWORK_NAME: world.networkName } });
    expect(asRoot.stdout).toContain(`✓ Workstation egress: host services and link-local addresses blocked for workstations on ${world.networkName} (`);
    expect(asRoot.stdout).toContain(`rules on bridge ${bridge}`);

    const home = mkdtempSync(join(tmpdir(), 'nexora-egress-doctor-'));
    cleanups.push(() => Promise.resolve(rmSync(home, { recursive: true, force: true })));
    chownSync(home, WORKSPACE_UID, WORKSPACE_GID);
    const { stdout } = await sh(
      'setpriv',
      [`--reuid=${WORKSPACE_UID}`, `--regid=${WORKSPACE_GID}`, `--groups=${await dockerGroup()}`, process.execPath, fileURLToPath(new URL('../../bin/nexora.js', import.meta.url)), 'doctor'],
      { env: { ...process.env, HOME: home, NEXORA_HOME: join(home, 'nexora'), DATABASE_URL: '', NEXORA_NETWORK_NAME: world.networkName }, timeout: 60_000 },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    expect(stdout).toContain(`! Workstation egress: NOT enforced: Nexora is not running as root, so it cannot add the host firewall rules; workstations on ${world.networkName} can reach the host's own services`);
    expect(stdout).toContain(`iptables -I INPUT -i ${bridge} -m comment --comment nexora-egress:${bridge}:host -m conntrack --ctstate NEW,INVALID -j DROP`);
    expect(stdout).toContain(`iptables -I DOCKER-USER -i ${bridge} -m comment --comment nexora-egress:${bridge}:linklocal -d 169.254.0.0/16 -j DROP`);
  }, 120_000);
});

/** The attacker: connects to each target at once (3 s each), prints what happened to each. */
const ATTACKER = String.raw`
import json, socket, sys, threading
results = {}
def probe(target):
    host, port = target.rsplit(':', 1)
    host = host.strip('[]')
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0]
        s = socket.socket(family, kind, proto)
        s.settimeout(3)
        s.connect(address)
        s.close()
        results[target] = 'open'
    except socket.timeout:
        results[target] = 'timeout'
    except OSError as error:
        results[target] = type(error).__name__ + ': ' + str(error)
threads = [threading.Thread(target=probe, args=(t,)) for t in sys.argv[1:]]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
`;
