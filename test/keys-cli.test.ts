import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/index.js';
import { createTestTarget, engines, type TestDatabaseTarget } from './fixtures/db-engines.js';

interface Run {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
}

const cli = ['--import', 'tsx', 'src/cli/main.ts'];

// A key nobody could mistake: if any of it shows up anywhere, the test says where.
const canary = `sk-NEXORA-CANARY-${Math.random().toString(36).slice(2, 12)}-END9`;

describe.each(engines)('nexora keys on %s', (engine) => {
  let target: TestDatabaseTarget;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const runs: Run[] = [];

  beforeAll(async () => {
    target = await createTestTarget(engine);
    home = mkdtempSync(join(tmpdir(), 'nexora-test-keys-'));
    env = { ...process.env, NEXORA_HOME: home, DATABASE_URL: target.open.url ?? '' };
    // The embedded database lives in the Nexora home, like a user's.
    if (engine === 'pglite') delete env.DATABASE_URL;
  });

  afterAll(async () => {
    rmSync(home, { recursive: true, force: true });
    await target?.destroy();
  });

  async function nexora(args: string[], input?: string): Promise<Run> {
    const child = spawn(process.execPath, [...cli, ...args], { env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.end(input ?? '');
    const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const run = { args, status, stdout, stderr };
    runs.push(run);
    return run;
  }

  it('runs every keys command with a recognisable key, and the key appears in none of their output, files or rows', async () => {
    const set = await nexora(['keys', 'set', 'openai', '--expires', '30d'], `${canary}\n`);
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(set.stdout).toMatch(/Stored the openai key …END9, expiring \d{4}-/);

    expect((await nexora(['keys', 'add', 'anthropic'], 'sk-ant-second-key-0000000000ABCD')).status).toBe(0);

    const list = await nexora(['keys', 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^PROVIDER\s+KEY\s+CREATED\s+UPDATED\s+EXPIRES$/m);
    expect(list.stdout).toMatch(/^anthropic\s+…ABCD\s+.*never$/m);
    expect(list.stdout).toMatch(/^openai\s+…END9\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+/m);

    const json = await nexora(['keys', 'list', '--json']);
    const parsed = JSON.parse(json.stdout) as { provider: string; key: string; expiresAt: string | null }[];
    expect(parsed.map((row) => [row.provider, row.key])).toEqual([
      ['anthropic', '…ABCD'],
      ['openai', '…END9'],
    ]);

    const rotate = await nexora(['keys', 'rotate']);
    expect(rotate.status).toBe(0);
    expect(rotate.stdout).toMatch(/Re-encrypted 2 provider key\(s\)/);

    expect((await nexora(['keys', 'rm', 'anthropic'])).stdout).toBe('Removed the anthropic key.\n');

    // Failing ones: the key on the command line, a missing key, a bad expiry, nothing on stdin.
    const onArgv = await nexora(['keys', 'set', 'openai', canary]);
    expect(onArgv.status).toBe(2);
    expect(onArgv.stderr).toMatch(/not accepted on the command line.*hidden prompt.*pipe it/);
    const missing = await nexora(['keys', 'rm', 'anthropic']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('No key is stored for anthropic');
    const badExpiry = await nexora(['keys', 'set', 'openai', '--expires', 'soon'], canary);
    expect(badExpiry.stderr).toContain('is not a date or a duration');
    const empty = await nexora(['keys', 'set', 'openai'], '');
    expect(empty.stderr).toContain('No key arrived on stdin');
    // A typo in the provider fails before any key is read; a key too short to be real is refused.
    const typo = await nexora(['keys', 'set', 'opnai'], canary);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain("unknown provider 'opnai' — did you mean 'openai'?");
    const short = await nexora(['keys', 'set', 'anthropic'], 'sk-ant-123');
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('That key is 10 characters long, too short to be an API key for anthropic');
    expect(short.stderr).not.toContain('sk-ant-123');
    expect((await nexora(['keys', 'list', '--json'])).stdout).not.toContain('"provider": "opnai"');

    const status = await nexora(['db', 'status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(engine === 'pglite' ? `embedded PGlite database at ${join(home, 'db')}` : 'PostgreSQL server at postgres://nexora_test:***@');
    expect(status.stdout).toContain('Up to date.');
    expect((await nexora(['db', 'migrate'])).stdout).toMatch(/Up to date \(schema version \d+\)/);

    // The key still works after all that.
    const db = await openDatabase({ ...target.open, env: {} });
    let dump: string;
    try {
      const tables = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
      expect(tables.map((row) => row.table_name)).toContain('events');
      const texts: string[] = [];
      for (const { table_name: table } of tables) {
        const rows = await db.query<{ text: string }>(`SELECT t::text AS text FROM ${table} t`);
        texts.push(...rows.map((row) => row.text));
      }
      dump = texts.join('\n');
    } finally {
      await db.close();
    }

    const fragments = [canary, canary.slice(0, 16), canary.slice(4, 24)];
    for (const run of runs) {
      for (const fragment of fragments) {
        expect(run.stdout, `stdout of nexora ${run.args[0]} ${run.args[1]}`).not.toContain(fragment);
        expect(run.stderr, `stderr of nexora ${run.args[0]} ${run.args[1]}`).not.toContain(fragment);
      }
    }
    for (const fragment of fragments) expect(dump).not.toContain(fragment);
    // Every file under the Nexora home (the embedded database's files and logs included).
    for (const file of filesUnder(home)) {
      const bytes = readFileSync(file);
      for (const fragment of fragments) expect(bytes.includes(Buffer.from(fragment)), file).toBe(false);
    }
  });

  it('prompts without echo on a terminal', () => {
    // A pseudo-terminal from Python's pty module: type the key, read everything the terminal showed.
    const script = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
out = b''
def read_until(marker, timeout):
    global out
    end = time.time() + timeout
    while marker not in out and time.time() < end:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
read_until(b'(input hidden)', 60)
os.write(fd, sys.stdin.read().encode() + b'\\r')
read_until(b'Stored the', 60)
read_until(b'\\n', 5)
os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
`;
    const result = spawnSync('python3', ['-c', script, process.execPath, ...cli, 'keys', 'set', 'mistral'], { env, input: `${canary}-TTY`, encoding: 'utf8', timeout: 120_000 });
    expect(result.stdout).toContain('API key for mistral (input hidden): ');
    expect(result.stdout).toMatch(/Stored the mistral key …-TTY/);
    expect(result.stdout).not.toContain(canary);
  });
});

/** Regular files only: the home also holds the server's socket, which has no bytes to read. */
function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : stat.isFile() ? [path] : [];
  });
}
