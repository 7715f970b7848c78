import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { NexoraError, describeError } from '../../errors.js';
import { setupScriptCommand } from '../../package-info.js';
import { pingEngine } from './engine-requests.js';

/**
 * A Docker Engine API client for DOCKER_HOST, read the way the docker CLI reads it:
 * `unix:///path` (the default socket when unset), `tcp://host:port` (TLS when
 * DOCKER_TLS_VERIFY=1 or port 2376, with ca.pem/cert.pem/key.pem from DOCKER_CERT_PATH),
 * `ssh://user@host[:port]` (the engine's socket over SSH, keys from SSH_AUTH_SOCK).
 */
export function createDockerClient(env: NodeJS.ProcessEnv = process.env): Docker {
  return new Docker(dockerOptionsFromEnv(env));
}

/** The dockerode options DOCKER_HOST and friends describe (exported for tests). */
export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv): Docker.DockerOptions {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { socketPath: '/var/run/docker.sock' };
  if (raw.startsWith('unix://')) return { socketPath: raw.slice('unix://'.length) || '/var/run/docker.sock' };
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `tcp://${raw}`);
  } catch (error) {
    throw new NexoraError('invalid-config', `DOCKER_HOST=${raw} is not an address: use unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host.`, { cause: error });
  }
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: Number(url.port) || 22,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(env.SSH_AUTH_SOCK ? { sshOptions: { agent: env.SSH_AUTH_SOCK } } : {}),
    };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NexoraError('invalid-config', `DOCKER_HOST=${raw} uses ${url.protocol}, which Nexora cannot reach: use unix://, tcp:// or ssh://.`);
  }
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376' || url.protocol === 'https:';
  const options: Docker.DockerOptions = { protocol: tls ? 'https' : 'http', host: url.hostname, port: Number(url.port) || (tls ? 2376 : 2375) };
  const certPath = env.DOCKER_CERT_PATH;
  if (tls && certPath) {
    try {
      options.ca = readFileSync(join(certPath, 'ca.pem'));
      options.cert = readFileSync(join(certPath, 'cert.pem'));
      options.key = readFileSync(join(certPath, 'key.pem'));
    } catch (error) {
      throw new NexoraError('invalid-config', `DOCKER_CERT_PATH=${certPath} must hold ca.pem, cert.pem and key.pem (${describeError(error)}).`, { cause: error });
    }
  }
  return options;
}

/** Where the client talks to, for messages. */
export function describeDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST && env.DOCKER_HOST.length > 0 ? env.DOCKER_HOST : 'unix:///var/run/docker.sock';
}

/** Fails with an actionable error when no engine answers. */
export async function pingDocker(docker: Docker, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const host = describeDockerHost(options.env);
  const deadline = AbortSignal.timeout(timeoutMs);
  try {
    // The request is closed at the deadline, not left waiting on a wedged engine.
    await pingEngine(docker, deadline);
  } catch (error) {
    const reason = deadline.aborted ? `no answer within ${timeoutMs} ms` : describeError(error);
    throw new NexoraError(
      'docker-unavailable',
      `Docker is not reachable at ${host} (${reason}). Start the engine (${setupScriptCommand() ? `\`${setupScriptCommand()}\` starts dockerd on Debian/Ubuntu` : 'Debian/Ubuntu: `sudo apt-get install docker.io`, then `sudo dockerd &`'}), or point DOCKER_HOST at a running one.`,
      { cause: error },
    );
  }
}
