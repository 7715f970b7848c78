import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './suggest.js';

const commands = ['config', 'db', 'demo', 'doctor', 'image', 'pool', 'run', 'session', 'sessions', 'keys', 'view', 'tui', 'completion', 'help'];

describe('closestMatch', () => {
  it('finds the command a typo meant', () => {
    expect(closestMatch('sesion', commands)).toBe('session');
    expect(closestMatch('doctr', commands)).toBe('doctor');
    expect(closestMatch('kyes', commands)).toBe('keys');
    expect(closestMatch('imgae', commands)).toBe('image');
    expect(closestMatch('compl', commands)).toBe('completion');
    expect(closestMatch('sess', commands)).toBe('session');
    expect(closestMatch('opnai', ['openai', 'anthropic', 'google'])).toBe('openai');
  });

  it('suggests nothing for a word that is nothing like any candidate', () => {
    expect(closestMatch('frobnicate', commands)).toBeUndefined();
    expect(closestMatch('xyz', commands)).toBeUndefined();
    expect(closestMatch('zz', [])).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('kyes', 'keys')).toBe(1);
    expect(editDistance('session', 'session')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
