import { describe, expect, it } from 'vitest';
import { NexoraError } from './errors.js';
import { loadSettings } from './settings.js';

describe('loadSettings', () => {
  it('uses the seed ranges by default', () => {
    const settings = loadSettings({});
    expect(settings.vncPorts).toEqual([5900, 5999]);
    expect(settings.cdpPorts).toEqual([9222, 9321]);
    expect(settings.databaseUrl).toBeUndefined();
  });

  it('reads ranges from the environment', () => {
    const settings = loadSettings({ NEXORA_VNC_PORTS: '6000-6009', NEXORA_CDP_PORTS: '7000-7009' });
    expect(settings.vncPorts).toEqual([6000, 6009]);
    expect(settings.cdpPorts).toEqual([7000, 7009]);
  });

  it.each([
    ['abc', 'LOW-HIGH'],
    ['6000-5000', 'must not be above'],
    ['80-90', '1024-65535'],
  ])('rejects NEXORA_VNC_PORTS=%s with a message that says how to fix it', (value, fragment) => {
    let caught: unknown;
    try {
      loadSettings({ NEXORA_VNC_PORTS: value });
    } catch (error) {
      caught = error;
    }
    expect(NexoraError.is(caught, 'invalid-config')).toBe(true);
    expect((caught as Error).message).toContain('NEXORA_VNC_PORTS');
    expect((caught as Error).message).toContain(fragment);
  });

  it('rejects overlapping ranges', () => {
    expect(() => loadSettings({ NEXORA_VNC_PORTS: '9000-9300' })).toThrow(/overlap/);
  });
});
