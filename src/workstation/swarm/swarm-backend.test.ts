import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NexoraError } from '../../errors.js';
import { dockerOptionsFromEnv } from '../docker/docker-client.js';
import { SilentEngine, rejection } from '../testing/silent-engine.js';
import { ClusterNodes } from './cluster-nodes.js';
import { SwarmBackend } from './swarm-backend.js';

// Far above the 300 ms asked for, far below the default deadlines (30 s and more): a call that
// ignored its options fails the test; a loaded machine does not.
const BOUND_MS = 10_000;

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

/** The engine saw every request it held closed again by the client. */
async function expectNothingHeld(engine: SilentEngine): Promise<void> {
  await vi.waitFor(() => expect(engine.held).toEqual([]), { timeout: BOUND_MS, interval: 20 });
}

/** Each call: at its deadline, on its signal mid-wait, and with a signal aborted before it. */
function playFailures(name: string, call: Call, setup: () => { backend: SwarmBackend; silent: SilentEngine }): void {
  it(`${name} fails at its deadline with a timeout error, and closes its requests`, async () => {
    const { backend, silent } = setup();
    const before = silent.received.length;
    const { error, ms } = await rejection(call(backend, { timeoutMs: 300 }));
    expect(NexoraError.is(error, 'timeout'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/did not answer in time/);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(silent.received.length).toBeGreaterThan(before);
    await expectNothingHeld(silent);
  });

  it(`${name} stops waiting when the caller's signal fires, and closes its requests`, async () => {
    const { backend, silent } = setup();
    const controller = new AbortController();
    const before = silent.received.length;
    const pending = rejection(call(backend, { signal: controller.signal }));
    await vi.waitFor(() => expect(silent.received.length).toBeGreaterThan(before), { timeout: BOUND_MS, interval: 10 });
    controller.abort();
    const { error, ms } = await pending;
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectNothingHeld(silent);
  });

  it(`${name} with a signal already aborted rejects at once`, async () => {
    const { backend, silent } = setup();
    const { error, ms } = await rejection(call(backend, { signal: AbortSignal.abort() }));
    expect(NexoraError.is(error), String(error)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS);
    await expectNothingHeld(silent);
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
  for (const [name, call] of Object.entries(calls)) playFailures(name, call, () => ({ backend, silent: manager }));

  it('verdictsSoFar counts none when the manager does not answer in time', async () => {
    const begun = Date.now();
    await expect(backend.verdictsSoFar('svc1', { timeoutMs: 300 })).resolves.toBe(0);
    expect(Date.now() - begun).toBeLessThan(BOUND_MS);
    await expectNothingHeld(manager);
  });

  it('create gives up on the service request when its signal fires', async () => {
    const controller = new AbortController();
    const before = manager.received.length;
    const pending = rejection(backend.create({ sessionId: 's1', workspaceDir: '/tmp', user: { uid: 1000, gid: 1000 }, vncPort: 1, cdpPort: 2, signal: controller.signal }));
    await vi.waitFor(() => expect(manager.received.length).toBeGreaterThan(before), { timeout: BOUND_MS, interval: 10 });
    controller.abort();
    const { error, ms } = await pending;
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
  for (const [name, call] of Object.entries(onNode)) playFailures(`${name} (on the node)`, call, () => ({ backend, silent: node }));

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
