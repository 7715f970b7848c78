import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { dockerOptionsFromEnv } from '../docker/docker-client.js';
import { BOUND_MS, abortOnceReceived, expectNothingHeld, playFailures } from '../testing/engine-failures.js';
import { SilentEngine, rejection } from '../testing/silent-engine.js';
import { ClusterNodes } from './cluster-nodes.js';
import { SwarmBackend } from './swarm-backend.js';

type CallOptions = { signal?: AbortSignal; timeoutMs?: number };
type Call = (backend: SwarmBackend, options: CallOptions) => Promise<unknown>;

function swarmBackend(manager: SilentEngine, nodes: Record<string, string> = {}): SwarmBackend {
  const client = new Docker(dockerOptionsFromEnv({ DOCKER_HOST: manager.endpoint }));
  return new SwarmBackend({
    manager: client,
    nodes: new ClusterNodes({ manager: client, endpoints: nodes, env: {} }),
    image: 'nexora-workstation:test',
    owner: { host: 'test', pid: process.pid, instance: 'silent-engine' },
    placement: { constraints: [], reserveMemoryBytes: 0, reserveNanoCpus: 0 },
  });
}

describe('SwarmBackend with a manager that never answers', () => {
  let manager: SilentEngine;
  let backend: SwarmBackend;
  beforeAll(async () => {
    manager = await SilentEngine.start();
    backend = swarmBackend(manager);
  });
  afterAll(() => manager.close());

  const calls: Record<string, Call> = {
    checkImage: (swarm, options) => swarm.checkImage(options),
    inspect: (swarm, options) => swarm.inspect('svc1', options),
    list: (swarm, options) => swarm.list(options),
    remove: (swarm, options) => swarm.remove('svc1', options),
    stop: (swarm, options) => swarm.stop('svc1', 2, options),
    start: (swarm, options) => swarm.start('svc1', options),
    memoryUsage: (swarm, options) => swarm.memoryUsage('svc1', options),
  };
  for (const [name, call] of Object.entries(calls)) playFailures(name, (options) => call(backend, options), () => manager);

  it('verdictsSoFar counts none when the manager does not answer in time', async () => {
    const begun = Date.now();
    await expect(backend.verdictsSoFar('svc1', { timeoutMs: 300 })).resolves.toBe(0);
    expect(Date.now() - begun).toBeLessThan(BOUND_MS);
    await expectNothingHeld(manager);
  });

  it('create gives up on the service request when its signal fires', async () => {
    const { error, ms } = await abortOnceReceived(manager, (signal) =>
      backend.create({ sessionId: 's1', workspaceDir: '/tmp', user: { uid: 1000, gid: 1000 }, vncPort: 1, cdpPort: 2, signal }),
    );
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectNothingHeld(manager);
  });
});

describe('SwarmBackend with a manager that answers and a node that never does', () => {
  const task = {
    ID: 'task1',
    ServiceID: 'svc1',
    NodeID: 'node1',
    DesiredState: 'running',
    CreatedAt: new Date().toISOString(),
    Status: { State: 'running', ContainerStatus: { ContainerID: 'c0ffee' } },
  };
  let manager: SilentEngine;
  let node: SilentEngine;
  let backend: SwarmBackend;
  beforeAll(async () => {
    // A manager that reports one ready node running the service's task, and whose task never
    // lets go when the service is scaled down.
    manager = await SilentEngine.start([
      { method: 'GET', path: '/nodes', body: [{ ID: 'node1', Description: { Hostname: 'node1' }, Status: { State: 'ready', Addr: '127.0.0.1' }, Spec: { Role: 'worker', Availability: 'active' } }] },
      { method: 'GET', path: '/tasks', body: [task] },
      { method: 'GET', path: '/services/svc1', body: { ID: 'svc1', Version: { Index: 1 }, Spec: { Name: 'nexora-s1', TaskTemplate: {} } } },
      { method: 'POST', path: '/services/svc1/update', body: {} },
      { method: 'DELETE', path: '/services/svc1', body: {} },
    ]);
    node = await SilentEngine.start();
    backend = swarmBackend(manager, { node1: node.endpoint });
  });
  afterAll(async () => {
    await manager.close();
    await node.close();
  });

  const onNode: Record<string, Call> = {
    checkImage: (swarm, options) => swarm.checkImage(options),
    memoryUsage: (swarm, options) => swarm.memoryUsage('svc1', options),
    // Waits for the task's container to go from its node, which lists nothing and answers no ping.
    remove: (swarm, options) => swarm.remove('svc1', options),
  };
  for (const [name, call] of Object.entries(onNode)) playFailures(`${name} (on the node)`, (options) => call(backend, options), () => node);

  it('stop fails at its deadline while Swarm does not let go of the task', async () => {
    const { error, ms } = await rejection(backend.stop('svc1', 2, { timeoutMs: 300 }));
    expect(NexoraError.is(error, 'timeout'), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('start stops waiting for the scale-down when its signal fires', async () => {
    const controller = new AbortController();
    const pending = rejection(backend.start('svc1', { signal: controller.signal }));
    controller.abort();
    const { error, ms } = await pending;
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('verdictsSoFar counts none when the node does not answer in time, and closes its request', async () => {
    const before = node.received.length;
    await expect(backend.verdictsSoFar('svc1', { timeoutMs: 300 })).resolves.toBe(0);
    expect(node.received.length).toBeGreaterThan(before);
    await expectNothingHeld(node);
  });
});
