import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import { bridgeRulesPresent } from '../src/workstation/docker/host-firewall.js';
import { removeWorkstationNetwork, workstationBridgeName } from '../src/workstation/docker/networks.js';
import { createSessionEnv, type SessionEnv } from './fixtures/session-env.js';

// Workstations must not reach each other (Docker's default bridge lets any container connect
// to any other's ports), and the isolated network must have no route out while the ports
// published on the host's loopback still work.

let world: SessionEnv;

beforeAll(async () => {
  world = await createSessionEnv('net');
});

afterAll(async () => {
  await world?.dispose();
});

async function containerIp(id: string): Promise<string> {
  const inspect = await world.docker.getContainer(id).inspect();
  const network = Object.values(inspect.NetworkSettings.Networks)[0];
  if (!network?.IPAddress) throw new Error('no IP address');
  return network.IPAddress;
}

const canConnect = (host: string, port: number): string =>
  `timeout 3 bash -c 'echo > /dev/tcp/${host}/${port}' 2>/dev/null && echo open || echo closed`;

describe('workstation networks', () => {
  it('bridge: one workstation cannot connect to another one’s VNC port', async () => {
    const { manager, close } = await world.open();
    const [first, second] = await Promise.all([
      manager.start({ workspaceDir: world.workspace(), usePool: false }),
      manager.start({ workspaceDir: world.workspace(), usePool: false }),
    ]).catch(async (error: unknown) => {
      await close();
      throw error;
    });
    try {
      const secondIp = await containerIp(second.info.id);
      // The second workstation's VNC server listens on its interface (it is published)...
      const self = await second.workstation.exec({ cmd: canConnect(secondIp, second.info.vncPort) });
      expect(self.stdout.trim()).toBe('open');
      // ...but the first cannot reach it: inter-container traffic is off on this network.
      const probe = await first.workstation.exec({ cmd: canConnect(secondIp, second.info.vncPort) });
      expect(probe.stdout.trim()).toBe('closed');
      const network = await world.docker.getNetwork(world.networkName).inspect();
      expect(network.Options?.['com.docker.network.bridge.enable_icc']).toBe('false');
    } finally {
      await manager.stopContainer(first.session.id);
      await manager.stopContainer(second.session.id);
      await close();
    }
  });

  it('isolated: no route out, no DNS, nothing on the host, while VNC on the published loopback port still works', async () => {
    const isolatedName = `${world.networkName}-iso`;
    // Host services an attacker in the workstation would like to reach.
    const onAll = await listen('0.0.0.0');
    const onLoopback = await listen('127.0.0.1');
    const { manager, close } = await world.open({ network: 'isolated', networkName: isolatedName });
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false }).catch(async (error: unknown) => {
      await close();
      throw error;
    });
    try {
      const network = await world.docker.getNetwork(isolatedName).inspect();
      expect(network.Options?.['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
      const gateway = network.IPAM?.Config?.[0]?.Gateway ?? '';
      expect(gateway).not.toBe('');
      const probe = async (command: string): Promise<string> => (await started.workstation.exec({ cmd: command })).stdout.trim();
      // The same probe works where something does listen: the workstation's own VNC port.
      expect(await probe(canConnect('127.0.0.1', started.info.vncPort))).toBe('open');
      expect(await probe(canConnect('1.1.1.1', 80))).toBe('closed');
      expect(await probe(canConnect(gateway, onAll.port))).toBe('closed');
      expect(await probe(canConnect(gateway, onLoopback.port))).toBe('closed');
      expect(await probe(canConnect('127.0.0.1', onLoopback.port))).toBe('closed');
      // The host resolves names here; the workstation must not (DNS is a way out too).
      expect(await probe('timeout 8 getent hosts deb.debian.org >/dev/null && echo resolved || echo failed')).toBe('failed');
      expect(onAll.connections + onLoopback.connections).toBe(0);
      // Start succeeded, which already proved the VNC greeting through 127.0.0.1:<port>.
      expect(started.info.ready).toBe(true);
    } finally {
      await manager.stopContainer(started.session.id);
      await close();
      await removeWorkstationNetwork(world.docker, isolatedName);
      // Its host firewall rules went with it.
      expect((await bridgeRulesPresent(workstationBridgeName('isolated', isolatedName)))?.missing).toHaveLength(3);
      await onAll.close();
      await onLoopback.close();
    }
  });

  it('refuses to reuse a network of that name whose options do not isolate, leaving nothing behind', async () => {
    const cases: Array<{ kind: 'bridge' | 'isolated'; name: string; options: Record<string, string>; expected: string }> = [
      { kind: 'bridge', name: `${world.networkName}-icc`, options: {}, expected: 'enable_icc' },
      { kind: 'isolated', name: `${world.networkName}-nat`, options: { 'com.docker.network.bridge.enable_icc': 'false' }, expected: 'enable_ip_masquerade' },
    ];
    for (const entry of cases) {
      await world.docker.createNetwork({ Name: entry.name, Driver: 'bridge', Options: entry.options, Labels: world.labels });
      const { manager, close } = await world.open({ network: entry.kind, networkName: entry.name });
      try {
        const error = await manager.start({ workspaceDir: world.workspace(), usePool: false }).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(NexoraError.is(error, 'invalid-config')).toBe(true);
        expect((error as Error).message).toContain(entry.expected);
        expect((error as Error).message).toContain(`docker network rm ${entry.name}`);
        const network = await world.docker.getNetwork(entry.name).inspect();
        expect(Object.keys(network.Containers ?? {})).toEqual([]);
        expect(await manager.sessions.list({ statuses: ['starting', 'active'] })).toEqual([]);
      } finally {
        await close();
        await world.docker.getNetwork(entry.name).remove().catch(() => undefined);
      }
    }
  });
});

/** A TCP server on the host that counts who connects. */
async function listen(host: string): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const state = { port: 0, connections: 0 };
  const server = createServer((socket) => {
    state.connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, { close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}
