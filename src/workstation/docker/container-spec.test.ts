import { describe, expect, it } from 'vitest';
import { buildContainerSpec } from './container-spec.js';
import { DEFAULT_LIMITS } from '../workstation-resources.js';
import { LABELS, ownerFromLabels } from '../labels.js';
import { parseNumericUser } from '../workspace-owner.js';

const base = {
  image: 'nexora-workstation:abc',
  name: 'nexora-s1',
  sessionId: 's1',
  workspaceDir: '/home/me/project',
  user: { uid: 1234, gid: 5678 },
  vncPort: 5901,
  cdpPort: 9223,
  geometry: '1280x800',
  startChromium: false,
  network: 'nexora-workstations',
  limits: DEFAULT_LIMITS,
  owner: { host: 'h', pid: 42, instance: 'i1' },
};

describe('buildContainerSpec', () => {
  it('fixes the security defaults in', () => {
    const spec = buildContainerSpec(base);
    expect(spec.User).toBe('1234:5678');
    const host = spec.HostConfig!;
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toBeUndefined();
    expect(host.Privileged).toBe(false);
    expect(host.SecurityOpt).toContain('no-new-privileges:true');
    expect(host.Init).toBe(true);
    expect(host.Memory).toBe(DEFAULT_LIMITS.memoryBytes);
    expect(host.PidsLimit).toBe(512);
    expect(Object.keys(host.Tmpfs!)).toEqual(expect.arrayContaining(['/tmp', '/run/nexora', '/home/nexora']));
    expect(JSON.stringify(spec)).not.toContain('docker.sock');
  });

  it('publishes VNC on loopback only, at the allocated port, and never the DevTools port', () => {
    const spec = buildContainerSpec(base);
    const bindings = spec.HostConfig!.PortBindings as Record<string, { HostIp: string; HostPort: string }[]>;
    expect(bindings).toEqual({ '5901/tcp': [{ HostIp: '127.0.0.1', HostPort: '5901' }] });
    expect(Object.keys(spec.ExposedPorts!)).toEqual(['5901/tcp']);
  });

  it('labels the container for orphan detection, and pool members as such', () => {
    const labels = buildContainerSpec({ ...base, poolKey: 'p1', labels: { 'dev.nexora.test': '1' } }).Labels!;
    expect(labels[LABELS.managed]).toBe('1');
    expect(labels[LABELS.session]).toBe('s1');
    expect(labels[LABELS.pool]).toBe('p1');
    expect(labels['dev.nexora.test']).toBe('1');
    expect(ownerFromLabels(labels)).toEqual({ host: 'h', pid: 42, instance: 'i1' });
  });

  it('passes the image contract environment', () => {
    const env = buildContainerSpec({ ...base, startChromium: true }).Env!;
    expect(env).toEqual(expect.arrayContaining(['NEXORA_VNC_PORT=5901', 'NEXORA_CDP_PORT=9223', 'NEXORA_CHROMIUM=1', 'DISPLAY=:1']));
  });

  it('carries no password anywhere (docker inspect shows all of it; execs inherit Env)', () => {
    const text = JSON.stringify(buildContainerSpec(base));
    expect(text).not.toMatch(/PASSWORD|passwd|secret/i);
  });
});

describe('parseNumericUser', () => {
  it('reads uid and gid and refuses root', () => {
    expect(parseNumericUser('1000:1001')).toEqual({ uid: 1000, gid: 1001 });
    expect(parseNumericUser('1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(() => parseNumericUser('0:0')).toThrow(/root/);
    expect(() => parseNumericUser('me')).toThrow(/UID:GID/);
  });
});
