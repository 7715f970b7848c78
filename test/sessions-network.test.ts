import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    ]);
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

  it('isolated: no route out, while VNC on the published loopback port still works', async () => {
    const isolatedName = `${world.networkName}-iso`;
    const { manager } = await world.open({ network: 'isolated', networkName: isolatedName });
    const started = await manager.start({ workspaceDir: world.workspace(), usePool: false });
    try {
      const network = await world.docker.getNetwork(isolatedName).inspect();
      expect(network.Options?.['com.docker.network.bridge.enable_ip_masquerade']).toBe('false');
      const gateway = network.IPAM?.Config?.[0]?.Gateway ?? '';
      const out = await started.workstation.exec({ cmd: canConnect('1.1.1.1', 80) });
      expect(out.stdout.trim()).toBe('closed');
      // Start succeeded, which already proved the VNC greeting through 127.0.0.1:<port>.
      expect(started.info.ready).toBe(true);
      expect(gateway).not.toBe('');
    } finally {
      await manager.stopContainer(started.session.id);
      await world.docker.getNetwork(isolatedName).remove().catch(() => undefined);
    }
  });
});
