import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase, SessionStore, newSessionId } from '../src/store/index.js';
import { createTestTarget, type TestDatabaseTarget } from './fixtures/db-engines.js';

interface ChildResult {
  opened: boolean;
  applied?: number[];
  code?: string;
  message?: string;
}

/** A nexora process (test/fixtures/db-child.ts) that opens a database when told to. */
class DbChild {
  readonly process: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(options: object) {
    this.process = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/db-child.ts', JSON.stringify(options)], { stdio: 'pipe' });
    createInterface({ input: this.process.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.waiters.splice(0).forEach((wake) => wake());
    });
    this.process.stderr.resume();
  }

  async nextLine(timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline || this.process.exitCode !== null) throw new Error('the child process printed nothing');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.lines.shift() as string;
  }

  async result(): Promise<ChildResult> {
    return JSON.parse(await this.nextLine()) as ChildResult;
  }

  send(word: string): void {
    this.process.stdin.write(`${word}\n`);
  }

  async exit(): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return this.process.exitCode;
    this.send('close');
    return new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }
}

const children: DbChild[] = [];
const targets: TestDatabaseTarget[] = [];

function child(options: object): DbChild {
  const created = new DbChild(options);
  children.push(created);
  return created;
}

afterEach(() => {
  for (const created of children.splice(0)) {
    if (created.process.exitCode === null && created.process.signalCode === null) created.process.kill('SIGKILL');
  }
});

afterAll(async () => {
  for (const target of targets.splice(0)) await target.destroy();
});

describe('two processes at once', () => {
  it('migrate a PostgreSQL server to one correct schema', async () => {
    const target = await createTestTarget('postgres');
    targets.push(target);
    const [first, second, third] = [child(target.open), child(target.open), child(target.open)];
    for (const process of [first, second, third]) expect(await process.nextLine()).toBe('loaded');
    for (const process of [first, second, third]) process.send('go');
    const results = await Promise.all([first.result(), second.result(), third.result()]);
    expect(results.every((result) => result.opened)).toBe(true);
    // Exactly one process applied the migrations; the others found nothing to do.
    const versions = loadMigrations().map((migration) => migration.version);
    expect(results.map((result) => result.applied).sort((a, b) => (b?.length ?? 0) - (a?.length ?? 0))).toEqual([versions, [], []]);
    await Promise.all([first.exit(), second.exit(), third.exit()]);

    const db = await target.connect();
    try {
      const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((row) => row.version)).toEqual(versions);
      const id = newSessionId();
      await new SessionStore(db).create({ id, userId: 'u', model: 'm', provider: 'p' });
      expect((await new SessionStore(db).get(id)).status).toBe('starting');
    } finally {
      await db.close();
    }
  });

  it('never share an embedded database: the second fails with a clear message, or waits when asked to', async () => {
    const target = await createTestTarget('pglite');
    targets.push(target);
    const owner = child(target.open);
    expect(await owner.nextLine()).toBe('loaded');
    owner.send('go');
    expect((await owner.result()).opened).toBe(true);

    const refused = child({ ...target.open, waitMs: 0 });
    expect(await refused.nextLine()).toBe('loaded');
    refused.send('go');
    const failure = await refused.result();
    expect(failure).toMatchObject({ opened: false, code: 'database-locked' });
    expect(failure.message).toContain(`in use by nexora process ${owner.process.pid}`);
    expect(failure.message).toContain('DATABASE_URL');
    await refused.exit();

    // In this process too.
    await expect(openDatabase({ ...target.open, env: {} })).rejects.toThrow(/only one process can open it/);

    const patient = child({ ...target.open, waitMs: 60_000 });
    expect(await patient.nextLine()).toBe('loaded');
    patient.send('go');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await owner.exit();
    expect(await patient.result()).toMatchObject({ opened: true, applied: [] });
    await patient.exit();
  });

  it('take over an embedded database at once when its owner was killed', async () => {
    const target = await createTestTarget('pglite');
    targets.push(target);
    const id = newSessionId();
    const setup = await target.connect();
    await new SessionStore(setup).create({ id, userId: 'u', model: 'm', provider: 'p' });
    await setup.close();

    const owner = child(target.open);
    expect(await owner.nextLine()).toBe('loaded');
    owner.send('go');
    expect((await owner.result()).opened).toBe(true);
    owner.process.kill('SIGKILL');
    await new Promise((resolve) => owner.process.once('exit', resolve));

    const db = await target.connect({ waitMs: 0 });
    try {
      expect((await new SessionStore(db).get(id)).status).toBe('starting');
    } finally {
      await db.close();
    }
  });
});
