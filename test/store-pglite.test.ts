import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteSettings } from '../src/store/pglite/pglite-settings.js';
import type { Db } from '../src/store/index.js';
import { createTestTarget, type TestDatabaseTarget } from './fixtures/db-engines.js';
import { eventually } from './fixtures/eventually.js';

const targets: TestDatabaseTarget[] = [];
afterAll(async () => {
  for (const target of targets.splice(0)) await target.destroy();
});

async function newTarget(): Promise<TestDatabaseTarget & { dataDir: string }> {
  const target = await createTestTarget('pglite');
  targets.push(target);
  return { ...target, dataDir: target.open.dataDir as string };
}

async function settings(db: Db): Promise<Record<string, string>> {
  const shown: Record<string, string> = {};
  for (const name of Object.keys(pgliteSettings)) {
    const [row] = await db.query<Record<string, string>>(`SHOW ${name}`);
    shown[name] = Object.values(row ?? {})[0] as string;
  }
  return shown;
}

describe('PGlite settings sized for the store', () => {
  it('are in force when the directory is created and on every reopen, whatever postgresql.conf says', async () => {
    const target = await newTarget();
    const created = await target.connect();
    expect(await settings(created)).toEqual(pgliteSettings);
    // initdb ran elsewhere and was renamed into place: no scratch directory is left.
    expect(readdirSync(dirname(target.dataDir))).toEqual(['db']);
    await created.query('CREATE TABLE kept (n integer)');
    await created.query('INSERT INTO kept VALUES (1)');
    await created.close();

    for (let reopen = 0; reopen < 2; reopen++) {
      if (reopen === 1) appendFileSync(join(target.dataDir, 'postgresql.conf'), '\nshared_buffers = 128MB\nwork_mem = 64MB\n');
      const again = await target.connect();
      expect(await settings(again)).toEqual(pgliteSettings);
      expect(await again.query('SELECT n FROM kept')).toEqual([{ n: 1 }]);
      // Durability is PGlite's, unchanged: commits wait for their WAL.
      expect(await again.query('SHOW synchronous_commit')).toEqual([{ synchronous_commit: 'on' }]);
      await again.close();
    }
  }, 180_000);

  it('stopped while initdb runs, leaves only the empty directory, and the next open creates the database', async () => {
    const target = await newTarget();
    const controller = new AbortController();
    const opening = target.connect({ signal: controller.signal });
    // initdb takes seconds in its child: abort once the scratch directory is being filled.
    await eventually(() => Promise.resolve(readdirSync(dirname(target.dataDir))), (names) => names.some((name) => name.startsWith('db.init-')), 'the initdb scratch directory');
    controller.abort();
    await expect(opening).rejects.toMatchObject({ code: 'aborted' });
    expect(readdirSync(dirname(target.dataDir))).toEqual(['db']);
    expect(readdirSync(target.dataDir)).toEqual([]);
    const db = await target.connect();
    expect(await settings(db)).toEqual(pgliteSettings);
    await db.close();
  }, 180_000);

  it('refuses a directory that holds files but no database, and leaves it as it was', async () => {
    const target = await newTarget();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(target.dataDir, { recursive: true });
    writeFileSync(join(target.dataDir, 'notes.txt'), 'mine');
    await expect(target.connect()).rejects.toMatchObject({ code: 'database-failed', message: expect.stringContaining('no PG_VERSION') as unknown });
    expect(readdirSync(target.dataDir)).toEqual(['notes.txt']);
    expect(readdirSync(dirname(target.dataDir))).toEqual(['db']);
  });
});

/** Starts the writer child and resolves with the rows it has seen committed when it is killed. */
async function killDuringBurst(dataDir: string, first: number, after: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/db-write-child.ts', dataDir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const committed: number[] = [];
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const match = /^committed (\d+)$/.exec(line);
    if (!match) return;
    committed.push(Number(match[1]));
    // Mid-burst: the writer is inside its next INSERT or transaction when the signal lands.
    if (committed.length === after) child.kill('SIGKILL');
  });
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the writer exited on its own (${signal ?? 'no signal'}): ${stderr.slice(-2000)}`);
  return committed;
}

describe('a kill -9 of the process holding PGlite', () => {
  it('during a burst of writes loses no committed row, twice over', async () => {
    const target = await newTarget();
    const seen: number[] = [];
    for (const [first, after] of [[1, 300], [100_000, 450]] as const) {
      const committed = await killDuringBurst(target.dataDir, first, after);
      expect(committed.length).toBeGreaterThanOrEqual(after);
      seen.push(...committed);
      const db = await target.connect();
      const rows = await db.query<{ n: number }>('SELECT n FROM crash_rows ORDER BY n');
      const stored = new Set(rows.map((row) => row.n));
      expect(seen.filter((n) => !stored.has(n))).toEqual([]);
      // A transaction is whole or absent: never one of its two rows without the other.
      for (const n of stored) if (n % 3 === 2) expect(stored.has(n + 1)).toBe(true);
      await db.close();
    }
  }, 240_000);
});
