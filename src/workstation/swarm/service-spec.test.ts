import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../workstation-resources.js';
import { buildServiceSpec } from './service-spec.js';

const workspace = mkdtempSync(join(tmpdir(), 'nexora-spec-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

const spec = buildServiceSpec({
  image: 'nexora-workstation:abc',
  name: 'nexora-ses_1',
  sessionId: 'ses_1',
  workspaceDir: workspace,
  user: { uid: 4242, gid: 4343 },
  vncPort: 5901,
  cdpPort: 9223,
  geometry: '1280x800',
  startChromium: false,
  limits: DEFAULT_LIMITS,
  owner: { host: 'h', pid: 1, instance: 'i' },
  labels: { 'dev.nexora.test': '1' },
  placement: { constraints: ['node.labels.nexora==1'], reserveMemoryBytes: 256 * 1024 ** 2, reserveNanoCpus: 100_000_000 },
});
const task = spec.TaskTemplate as Docker.ContainerTaskSpec;
const container = task.ContainerSpec ?? {};

describe('buildServiceSpec', () => {
  it('keeps the local hardening: user, read-only root, no capabilities, init, limits, no secret in the environment', () => {
    expect(container.User).toBe('4242:4343');
    expect(container.ReadOnly).toBe(true);
    expect(container.CapabilityDrop).toEqual(['ALL']);
    expect(container.Init).toBe(true);
    expect(task.Resources?.Limits).toMatchObject({ MemoryBytes: DEFAULT_LIMITS.memoryBytes, NanoCPUs: DEFAULT_LIMITS.nanoCpus, Pids: DEFAULT_LIMITS.pidsLimit });
    expect((container.Env ?? []).join('\n')).not.toMatch(/PASSW|SECRET|TOKEN/i);
    expect(container.Labels).toMatchObject({ 'dev.nexora.managed': '1', 'dev.nexora.session': 'ses_1', 'dev.nexora.test': '1' });
    expect(spec.Labels).toEqual(container.Labels);
    expect((container.Mounts ?? []).find((mount) => mount.Target === '/workspace')).toMatchObject({ Type: 'bind', Source: workspace });
  });

  it('reserves room, spreads across nodes, never restarts on its own, publishes VNC in host mode only', () => {
    expect(task.Resources?.Reservations).toEqual({ MemoryBytes: 256 * 1024 ** 2, NanoCPUs: 100_000_000 });
    expect(task.Placement).toEqual({ Constraints: ['node.labels.nexora==1'], Preferences: [{ Spread: { SpreadDescriptor: 'node.id' } }] });
    expect(task.RestartPolicy?.Condition).toBe('none');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 5901, PublishedPort: 5901, PublishMode: 'host' }] });
  });
});
