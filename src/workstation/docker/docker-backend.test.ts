import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NexoraError } from '../../errors.js';
import { SilentEngine, rejection } from '../testing/silent-engine.js';
import { DockerBackend } from './docker-backend.js';
import { createDockerClient, pingDocker } from './docker-client.js';

// A generous bound: far above the 300 ms asked for, far below the 30 s default deadlines, so a
// call that ignored its options would fail the test, and a loaded machine would not.
const BOUND_MS = 10_000;

let engine: SilentEngine;
let backend: DockerBackend;

beforeAll(async () => {
  engine = await SilentEngine.start();
  backend = new DockerBackend({
    docker: createDockerClient({ DOCKER_HOST: engine.endpoint }),
    image: 'nexora-workstation:test',
    owner: { host: 'test', pid: process.pid, instance: 'silent-engine' },
    networkName: 'nexora-silent-test',
  });
});

afterAll(async () => {
  await engine.close();
});

type Call = (options: { signal?: AbortSignal; timeoutMs?: number }) => Promise<unknown>;

const calls: Record<string, Call> = {
  checkImage: (options) => backend.checkImage(options),
  inspect: (options) => backend.inspect('c0ffee', options),
  list: (options) => backend.list(options),
  remove: (options) => backend.remove('c0ffee', options),
  stop: (options) => backend.stop('c0ffee', 2, options),
  start: (options) => backend.start('c0ffee', options),
  pause: (options) => backend.pause('c0ffee', options),
  unpause: (options) => backend.unpause('c0ffee', options),
  memoryUsage: (options) => backend.memoryUsage('c0ffee', options),
};

/** The engine saw every connection it held closed again: nothing was left waiting. */
async function expectNothingHeld(): Promise<void> {
  await vi.waitFor(() => expect(engine.held).toEqual([]), { timeout: BOUND_MS, interval: 20 });
}

describe('DockerBackend against an engine that never answers', () => {
  for (const [name, call] of Object.entries(calls)) {
    it(`${name} fails at its deadline with a timeout error, and closes its request`, async () => {
      const before = engine.received.length;
      const { error, ms } = await rejection(call({ timeoutMs: 300 }));
      expect(NexoraError.is(error, 'timeout'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/did not answer in time/);
      expect(ms).toBeLessThan(BOUND_MS);
      expect(engine.received.length).toBeGreaterThan(before);
      await expectNothingHeld();
    });

    it(`${name} stops waiting when the caller's signal fires, and closes its request`, async () => {
      const controller = new AbortController();
      const before = engine.received.length;
      const pending = rejection(call({ signal: controller.signal }));
      // Aborted only once the request reached the engine: the wait itself is cancelled.
      await vi.waitFor(() => expect(engine.received.length).toBeGreaterThan(before), { timeout: BOUND_MS, interval: 10 });
      controller.abort();
      const { error, ms } = await pending;
      expect(NexoraError.is(error), String(error)).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS);
      await expectNothingHeld();
    });

    it(`${name} with a signal already aborted rejects at once`, async () => {
      const { error, ms } = await rejection(call({ signal: AbortSignal.abort() }));
      expect(NexoraError.is(error), String(error)).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS);
      await expectNothingHeld();
    });
  }

  it('verdictsSoFar counts none when the engine does not answer in time, and closes its request', async () => {
    const begun = Date.now();
    await expect(backend.verdictsSoFar('c0ffee', { timeoutMs: 300 })).resolves.toBe(0);
    expect(Date.now() - begun).toBeLessThan(BOUND_MS);
    await expectNothingHeld();
  });

  it('create stops waiting for the network when its signal fires (the shared network set-up keeps its own deadline)', async () => {
    const own = await SilentEngine.start();
    try {
      const creator = new DockerBackend({
        docker: createDockerClient({ DOCKER_HOST: own.endpoint }),
        image: 'nexora-workstation:test',
        owner: { host: 'test', pid: process.pid, instance: 'silent-engine' },
        networkName: 'nexora-silent-create-test',
      });
      const controller = new AbortController();
      const pending = rejection(creator.create({ sessionId: 's1', workspaceDir: '/tmp', user: { uid: 1000, gid: 1000 }, vncPort: 1, cdpPort: 2, signal: controller.signal }));
      await vi.waitFor(() => expect(own.received.length).toBeGreaterThan(0), { timeout: BOUND_MS, interval: 10 });
      controller.abort();
      const { error, ms } = await pending;
      expect(NexoraError.is(error, 'timeout'), String(error)).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS);
    } finally {
      await own.close();
    }
  });

  it('pingDocker says the engine did not answer, and closes its request', async () => {
    const { error } = await rejection(pingDocker(createDockerClient({ DOCKER_HOST: engine.endpoint }), { timeoutMs: 300, env: { DOCKER_HOST: engine.endpoint } }));
    expect(NexoraError.is(error, 'docker-unavailable'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/no answer within 300 ms/);
    await expectNothingHeld();
  });
});
