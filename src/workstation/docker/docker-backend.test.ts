import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { BOUND_MS, abortOnceReceived, expectNothingHeld, playFailures, type EngineCall } from '../testing/engine-failures.js';
import { SilentEngine, rejection } from '../testing/silent-engine.js';
import { DockerBackend } from './docker-backend.js';
import { createDockerClient, pingDocker } from './docker-client.js';

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

const calls: Record<string, EngineCall> = {
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

describe('DockerBackend against an engine that never answers', () => {
  for (const [name, call] of Object.entries(calls)) playFailures(name, call, () => engine);

  it('verdictsSoFar counts none when the engine does not answer in time, and closes its request', async () => {
    const begun = Date.now();
    await expect(backend.verdictsSoFar('c0ffee', { timeoutMs: 300 })).resolves.toBe(0);
    expect(Date.now() - begun).toBeLessThan(BOUND_MS);
    await expectNothingHeld(engine);
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
      const { error, ms } = await abortOnceReceived(own, (signal) =>
        creator.create({ sessionId: 's1', workspaceDir: '/tmp', user: { uid: 1000, gid: 1000 }, vncPort: 1, cdpPort: 2, signal }),
      );
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
    await expectNothingHeld(engine);
  });
});
