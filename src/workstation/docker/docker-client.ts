import Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';

/**
 * A Docker Engine API client. dockerode reads DOCKER_HOST (unix://, tcp:// with
 * DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, ssh://) the same way the docker CLI does.
 */
export function createDockerClient(env: NodeJS.ProcessEnv = process.env): Docker {
  if (env.DOCKER_HOST?.startsWith('ssh://')) {
    return new Docker({ protocol: 'ssh', host: new URL(env.DOCKER_HOST).hostname, username: new URL(env.DOCKER_HOST).username || undefined, port: Number(new URL(env.DOCKER_HOST).port) || 22 });
  }
  return new Docker();
}

/** Where the client talks to, for messages. */
export function describeDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST && env.DOCKER_HOST.length > 0 ? env.DOCKER_HOST : 'unix:///var/run/docker.sock';
}

/** Fails with an actionable error when no engine answers. */
export async function pingDocker(docker: Docker, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const host = describeDockerHost(options.env);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new NexoraError(
      'docker-unavailable',
      `Docker is not reachable at ${host} (${describeError(error)}). Start the engine (\`bash scripts/setup.sh\` starts dockerd on Debian/Ubuntu), or point DOCKER_HOST at a running one.`,
      { cause: error },
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
}
