import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { acquireDirectoryLock } from './directory-lock.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nexora-lock-'));
  directories.push(directory);
  return directory;
}

describe.each(['auto', 'pid-file'] as const)('directory lock (%s)', (strategy) => {
  it('has one owner at a time and names it', async () => {
    const directory = freshDirectory();
    const lock = await acquireDirectoryLock({ directory, strategy });
    const error = await acquireDirectoryLock({ directory, strategy }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'database-locked')).toBe(true);
    expect((error as Error).message).toContain(`nexora process ${process.pid}`);
    await lock.release();
    const again = await acquireDirectoryLock({ directory, strategy });
    await again.release();
  });

  it('waits for the owner when asked to, and gives up when aborted', async () => {
    const directory = freshDirectory();
    const lock = await acquireDirectoryLock({ directory, strategy });
    setTimeout(() => void lock.release(), 300);
    const started = Date.now();
    const next = await acquireDirectoryLock({ directory, strategy, waitMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(acquireDirectoryLock({ directory, strategy, waitMs: 5000, signal: controller.signal })).rejects.toSatisfy((error) => NexoraError.is(error, 'aborted'));
    await next.release();
  });
});

it('takes over a pid file whose process is gone', async () => {
  const directory = freshDirectory();
  // A pid far above pid_max belongs to no process.
  writeFileSync(`${directory}.lock`, JSON.stringify({ pid: 99_999_999, since: '2020-01-01T00:00:00.000Z' }));
  const lock = await acquireDirectoryLock({ directory, strategy: 'pid-file' });
  await lock.release();
  rmSync(`${directory}.lock`, { force: true });
});
