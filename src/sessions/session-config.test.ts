import { describe, expect, it } from 'vitest';
import { loadSessionConfig } from './session-config.js';

describe('loadSessionConfig', () => {
  it('has safe defaults', () => {
    const config = loadSessionConfig({});
    expect(config.network).toBe('bridge');
    expect(config.endpointHost).toBe('127.0.0.1');
    expect(config.poolSize).toBe(0);
    expect(config.limits).toEqual({});
  });

  it('reads limits and pool settings', () => {
    const config = loadSessionConfig({
      NEXORA_WORKSTATION_MEMORY: '512m',
      NEXORA_WORKSTATION_CPUS: '0.5',
      NEXORA_WORKSTATION_PIDS: '256',
      NEXORA_WORKSTATION_NETWORK: 'isolated',
      NEXORA_POOL_SIZE: '2',
      NEXORA_POOL_IDLE_TIMEOUT: '60',
    });
    expect(config.limits).toEqual({ memoryBytes: 512 * 1024 ** 2, nanoCpus: 500_000_000, pidsLimit: 256 });
    expect(config.network).toBe('isolated');
    expect(config.poolSize).toBe(2);
    expect(config.poolIdleTimeoutMs).toBe(60_000);
  });

  it('reads name overrides and extra labels', () => {
    const config = loadSessionConfig({ NEXORA_NETWORK_NAME: 'n1', NEXORA_CONTAINER_PREFIX: 'p1', NEXORA_CONTAINER_LABELS: 'dev.nexora.test=1,team=a' });
    expect(config).toMatchObject({ networkName: 'n1', containerPrefix: 'p1', containerLabels: { 'dev.nexora.test': '1', team: 'a' } });
    expect(() => loadSessionConfig({ NEXORA_CONTAINER_LABELS: 'no-equals' })).toThrow(/NEXORA_CONTAINER_LABELS/);
  });

  it('names the variable and the fix when a value is wrong', () => {
    expect(() => loadSessionConfig({ NEXORA_WORKSTATION_MEMORY: 'lots' })).toThrow(/NEXORA_WORKSTATION_MEMORY=lots .*size/);
    expect(() => loadSessionConfig({ NEXORA_WORKSTATION_NETWORK: 'host' })).toThrow(/NEXORA_WORKSTATION_NETWORK/);
  });

  it('chooses the backend; swarm needs each node\'s endpoint', () => {
    expect(loadSessionConfig({}).backend).toBe('docker');
    expect(() => loadSessionConfig({ NEXORA_BACKEND: 'k8s' })).toThrow(/NEXORA_BACKEND=k8s/);
    expect(() => loadSessionConfig({ NEXORA_BACKEND: 'swarm' })).toThrow(/NEXORA_SWARM_NODES/);
    expect(() => loadSessionConfig({ NEXORA_BACKEND: 'swarm', NEXORA_SWARM_NODES: 'n1:/run/d.sock' })).toThrow(/NEXORA_SWARM_NODES=n1:.*hostname=endpoint/);
    const config = loadSessionConfig({
      NEXORA_BACKEND: 'swarm',
      NEXORA_SWARM_MANAGER: 'unix:///run/m.sock',
      NEXORA_SWARM_NODES: 'n1=unix:///run/n1.sock,n2=tcp://10.0.0.12:2376',
      NEXORA_SWARM_CONSTRAINTS: 'node.role==worker; node.labels.nexora==1',
      NEXORA_SWARM_RESERVE_MEMORY: '512m',
    });
    expect(config.swarm).toEqual({
      manager: 'unix:///run/m.sock',
      nodes: { n1: 'unix:///run/n1.sock', n2: 'tcp://10.0.0.12:2376' },
      constraints: ['node.role==worker', 'node.labels.nexora==1'],
      spread: undefined,
      reserveMemoryBytes: 512 * 1024 ** 2,
      reserveNanoCpus: 100_000_000,
    });
  });

  it('refuses every network setting the swarm backend does not implement, instead of dropping it', () => {
    const swarm = { NEXORA_BACKEND: 'swarm', NEXORA_SWARM_NODES: 'n1=unix:///run/n1.sock' };
    expect(() => loadSessionConfig({ ...swarm, NEXORA_WORKSTATION_NETWORK: 'isolated' })).toThrow(/^NEXORA_WORKSTATION_NETWORK=isolated is not available with NEXORA_BACKEND=swarm: .*no published ports.*Unset it/);
    expect(() => loadSessionConfig({ ...swarm, NEXORA_NETWORK_NAME: 'mine' })).toThrow(/^NEXORA_NETWORK_NAME=mine is not used with NEXORA_BACKEND=swarm.*Unset it/);
    expect(() => loadSessionConfig({ ...swarm, NEXORA_WORKSTATION_HOST: '10.0.0.1' })).toThrow(/^NEXORA_WORKSTATION_HOST=10\.0\.0\.1 is not used with NEXORA_BACKEND=swarm.*Unset it/);
    // `bridge` is what the swarm backend does (each node's bridge, NAT out): accepted.
    expect(loadSessionConfig({ ...swarm, NEXORA_WORKSTATION_NETWORK: 'bridge' }).network).toBe('bridge');
  });
});
