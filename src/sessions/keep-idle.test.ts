import { describe, expect, it } from 'vitest';
import { defaultKeepIdleMs, keepIdleMs, keepUntil } from './keep-idle.js';

describe('keepIdleMs', () => {
  it('takes the environment over the config, the config over the default', () => {
    expect(keepIdleMs({ env: {} })).toBe(defaultKeepIdleMs);
    expect(keepIdleMs({ env: {}, configMinutes: 2 })).toBe(120_000);
    expect(keepIdleMs({ env: { NEXORA_KEEP_IDLE_SECONDS: '2' }, configMinutes: 30 })).toBe(2000);
  });

  it('refuses a value that is not a positive number of seconds, in one line', () => {
    for (const raw of ['soon', '0', '-5', '1e9']) {
      expect(() => keepIdleMs({ env: { NEXORA_KEEP_IDLE_SECONDS: raw } })).toThrow(/^NEXORA_KEEP_IDLE_SECONDS is "[^"]*": set it to a number of seconds between 1 and 604800/);
    }
  });

  it('keeps until now plus the idle time', () => {
    expect(keepUntil(5000, new Date(0)).getTime()).toBe(5000);
  });
});
