import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { WORKSTATION_HELPERS, helperCollision, observerExecUser } from './helper-users.js';
import { parseNumericUser, workspaceOwner } from './workspace-owner.js';

describe("the helpers' uids", () => {
  it('are refused as the workstation user, by uid or by gid, with the reason', () => {
    for (const helper of Object.values(WORKSTATION_HELPERS)) {
      for (const text of [`${helper.uid}:1000`, `1000:${helper.gid}`]) {
        let failure: unknown;
        try {
          parseNumericUser(text);
        } catch (error) {
          failure = error;
        }
        expect(NexoraError.is(failure, 'invalid-argument')).toBe(true);
        expect((failure as Error).message).toContain(`reserved for ${helper.name}`);
      }
    }
    expect(helperCollision({ uid: 1000, gid: 1000 })).toBeUndefined();
    expect(parseNumericUser('1000:1000')).toEqual({ uid: 1000, gid: 1000 });
  });

  it('refuse a workspace owned by one of them', async () => {
    if (process.getuid?.() !== 0) return; // chown needs root; the rule itself is tested above
    const directory = mkdtempSync(join(tmpdir(), 'nexora-helper-owner-'));
    try {
      chownSync(directory, WORKSTATION_HELPERS.observer.uid, 1000);
      await expect(workspaceOwner(directory)).rejects.toThrow(/reserved for nexora-observer/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("give the observer its own uid and the owner's group", () => {
    expect(observerExecUser({ uid: 1234, gid: 4321 })).toBe(`${WORKSTATION_HELPERS.observer.uid}:4321`);
  });
});
