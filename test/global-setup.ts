import { createDockerClient, pingDocker } from '../src/workstation/docker/docker-client.js';

/**
 * Integration suites need a Docker engine; scripts/test.sh starts one. Failing here, once,
 * with the reason beats every suite failing on its own.
 */
export default async function setup(): Promise<void> {
  await pingDocker(createDockerClient(), { timeoutMs: 10_000 });
}
