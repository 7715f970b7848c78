import { describe, expect, it } from 'vitest';
import { isFinalStatus, nextStatuses, previousStatuses, sessionStatuses } from './session-status.js';

describe('session state machine', () => {
  it('runs starting → active → stopping → ended, with crashed from every live state', () => {
    expect(nextStatuses('starting')).toEqual(['active', 'stopping', 'crashed']);
    expect(nextStatuses('active')).toEqual(['stopping', 'crashed']);
    expect(nextStatuses('stopping')).toEqual(['ended', 'crashed']);
    expect(previousStatuses('crashed')).toEqual(['starting', 'active', 'stopping']);
    expect(previousStatuses('starting')).toEqual([]);
    expect(sessionStatuses.filter(isFinalStatus)).toEqual(['ended', 'crashed']);
  });
});
