import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerOptionsFromEnv } from './docker-client.js';

describe('DOCKER_HOST', () => {
  it('defaults to the local socket and reads unix:// paths', () => {
    expect(dockerOptionsFromEnv({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual({ socketPath: '/run/user/1000/docker.sock' });
  });

  it('reads tcp:// in the clear, and with TLS and client certificates', () => {
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual({ protocol: 'http', host: '10.0.0.5', port: 2375 });
    const certs = mkdtempSync(join(tmpdir(), 'nexora-certs-'));
    try {
      for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, name), name);
      const options = dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
      expect(options).toMatchObject({ protocol: 'https', host: 'docker.example', port: 2376 });
      expect((options.ca as Buffer).toString()).toBe('ca.pem');
      expect((options.key as Buffer).toString()).toBe('key.pem');
      expect(() => dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: join(certs, 'missing') })).toThrow(/ca\.pem, cert\.pem and key\.pem/);
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
  });

  it('reads ssh:// with user and port, using the SSH agent', () => {
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'ssh://deploy@build.example:2222', SSH_AUTH_SOCK: '/tmp/agent.sock' })).toEqual({
      protocol: 'ssh',
      host: 'build.example',
      port: 2222,
      username: 'deploy',
      sshOptions: { agent: '/tmp/agent.sock' },
    });
  });

  it('refuses what it cannot reach, saying what works', () => {
    expect(() => dockerOptionsFromEnv({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toThrow(/unix:\/\/, tcp:\/\/ or ssh:\/\//);
  });
});
