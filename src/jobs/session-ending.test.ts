import { describe, expect, it } from 'vitest';
import { sessionEnding } from './session-ending.js';

describe('sessionEnding', () => {
  const now = new Date(1_000_000);
  it('parks the session for every outcome unless --keep or --rm says otherwise', () => {
    for (const outcome of ['completed', 'failed', 'max-steps', 'budget', 'interrupted']) {
      expect(sessionEnding({ claimed: false, flags: {}, outcome, idleMs: 60_000, now })).toEqual({ kind: 'park', until: new Date(1_060_000) });
      expect(sessionEnding({ claimed: false, flags: { rm: true }, outcome, idleMs: 60_000, now })).toEqual({ kind: 'stop' });
      expect(sessionEnding({ claimed: false, flags: { keep: true }, outcome, idleMs: 60_000, now })).toEqual({ kind: 'keep' });
    }
  });

  it('leaves a session lent to the run (--session) as its owner had it', () => {
    expect(sessionEnding({ claimed: true, flags: { rm: true }, outcome: 'completed', idleMs: 60_000, now })).toEqual({ kind: 'lent' });
  });
});
