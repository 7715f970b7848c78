import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { readFileUnder, readRegularFile, refusalReason, SafeDirectory, writeFileUnder } from './index.js';

const base = mkdtempSync(join(tmpdir(), 'nexora-safe-file-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let count = 0;

/** A fresh root, and beside it (outside it) a "host" file whose bytes must never come back. */
function fixture(): { root: string; secret: string; outside: string } {
  const dir = join(base, String(++count));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(root, { recursive: true });
  mkdirSync(outside);
  const secret = join(outside, 'secret.txt');
  writeFileSync(secret, 'HOST-SECRET-BYTES');
  return { root, secret, outside };
}

async function refusal(promise: Promise<unknown>): Promise<{ reason: string | undefined; message: string; code: string | undefined }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected a refusal').toBeDefined();
  return { reason: refusalReason(error), message: (error as Error).message, code: NexoraError.is(error) ? error.code : undefined };
}

describe('reading under a root', () => {
  it('reads a regular file, nested too, and says undefined for what is not there', async () => {
    const { root } = fixture();
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'b', 'f.txt'), 'hello');
    const read = await readFileUnder({ root, path: 'a/b/f.txt', maxBytes: 100 });
    expect(read?.bytes.toString()).toBe('hello');
    expect(read?.truncated).toBe(false);
    expect(await readFileUnder({ root, path: 'a/b/none.txt', maxBytes: 100 })).toBeUndefined();
    expect(await readFileUnder({ root, path: 'none/f.txt', maxBytes: 100 })).toBeUndefined();
  });

  it('refuses a link to a host file, naming the path but neither the target nor its bytes', async () => {
    const { root, secret } = fixture();
    symlinkSync(secret, join(root, 'AGENTS.md'));
    const refused = await refusal(readFileUnder({ root, path: 'AGENTS.md', maxBytes: 100 }));
    expect(refused).toMatchObject({ reason: 'symbolic-link', code: 'unsafe-workspace' });
    expect(refused.message).toContain(join(root, 'AGENTS.md'));
    expect(refused.message).not.toContain(secret);
    expect(refused.message).not.toContain('HOST-SECRET');
  });

  it('refuses a link anywhere on the way: a directory that is a link is never walked', async () => {
    const { root, outside } = fixture();
    symlinkSync(outside, join(root, 'docs'));
    const refused = await refusal(readFileUnder({ root, path: 'docs/secret.txt', maxBytes: 100 }));
    expect(refused.reason).toBe('symbolic-link');
    expect(refused.message).toContain(join(root, 'docs'));
  });

  it('refuses a FIFO without waiting for a writer, and a directory', async () => {
    const { root } = fixture();
    execFileSync('mkfifo', [join(root, 'pipe')]);
    mkdirSync(join(root, 'dir'));
    const started = Date.now();
    expect(await refusal(readFileUnder({ root, path: 'pipe', maxBytes: 100 }))).toMatchObject({ reason: 'not-regular-file' });
    // The same FIFO opened by a path that skips the lstat courtesy: O_NONBLOCK, then fstat refuses it.
    const direct = await refusal(readRegularFile({ path: join(root, 'pipe'), maxBytes: 100 }));
    expect(direct.message).toContain('a named pipe (FIFO)');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await refusal(readFileUnder({ root, path: 'dir', maxBytes: 100 }))).message).toContain('is a directory, not a regular file');
  });

  it('refuses a device', async () => {
    expect((await refusal(readFileUnder({ root: '/dev', path: 'null', maxBytes: 100 }))).message).toBe('/dev/null is a device, not a regular file: Nexora reads and writes only regular files in a workspace.');
    expect((await refusal(readRegularFile({ path: '/dev/zero', maxBytes: 100 }))).reason).toBe('not-regular-file');
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a device node planted in the tree (as root, mknod)', async () => {
    const { root } = fixture();
    execFileSync('mknod', [join(root, 'zero'), 'c', '1', '5']);
    expect((await refusal(readFileUnder({ root, path: 'zero', maxBytes: 100 }))).reason).toBe('not-regular-file');
  });

  it('bounds the read: over the limit is refused with the limit named, or truncated on request', async () => {
    const { root } = fixture();
    writeFileSync(join(root, 'big'), 'x'.repeat(200_000));
    const refused = await refusal(readFileUnder({ root, path: 'big', maxBytes: 64 * 1024 }));
    expect(refused).toMatchObject({ reason: 'too-large' });
    expect(refused.message).toBe(`${join(root, 'big')} is over the 64 KiB limit for this file: make it smaller.`);
    const truncated = await readFileUnder({ root, path: 'big', maxBytes: 1000, oversize: 'truncate' });
    expect(truncated?.bytes.length).toBe(1000);
    expect(truncated).toMatchObject({ truncated: true, sizeBytes: 200_000 });
    writeFileSync(join(root, 'exact'), 'y'.repeat(1000));
    expect(await readFileUnder({ root, path: 'exact', maxBytes: 1000 })).toMatchObject({ truncated: false, sizeBytes: 1000 });
  });

  it('refuses paths that leave the root', async () => {
    const { root } = fixture();
    for (const path of ['../outside/secret.txt', '/etc/passwd', 'a/../../x', '']) {
      expect((await refusal(readFileUnder({ root, path, maxBytes: 100 }))).code).toMatch(/unsafe-workspace|invalid-argument/);
    }
  });

  it('keeps reading the directory it opened when that directory is swapped for a link', async () => {
    const { root, outside } = fixture();
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'secret.txt'), 'workspace text');
    const directory = await SafeDirectory.open({ root, path: 'sub' });
    try {
      renameSync(join(root, 'sub'), join(root, 'moved'));
      symlinkSync(outside, join(root, 'sub'));
      expect((await directory?.readFile('secret.txt', { maxBytes: 100 }))?.bytes.toString()).toBe('workspace text');
      expect((await directory?.entries())?.map((entry) => entry.name)).toEqual(['secret.txt']);
    } finally {
      await directory?.close();
    }
  });

  it('lists entries as they are: a link is a link', async () => {
    const { root, outside } = fixture();
    writeFileSync(join(root, 'f'), '');
    mkdirSync(join(root, 'd'));
    symlinkSync(outside, join(root, 'l'));
    execFileSync('mkfifo', [join(root, 'p')]);
    const directory = await SafeDirectory.open({ root });
    const entries = (await directory?.entries())?.sort((a, b) => a.name.localeCompare(b.name));
    await directory?.close();
    expect(entries).toEqual([
      { name: 'd', kind: 'directory' },
      { name: 'f', kind: 'file' },
      { name: 'l', kind: 'symbolic-link' },
      { name: 'p', kind: 'other' },
    ]);
  });
});

describe('writing under a root', () => {
  const leftovers = (dir: string): string[] => readdirSync(dir).filter((name) => name.includes('nexora-tmp'));

  it('creates a file with the mode given, and replaces one whole', async () => {
    const { root } = fixture();
    expect(await writeFileUnder({ root, path: 'out.md', data: 'one\n', mode: 0o600 })).toEqual({});
    expect(readFileSync(join(root, 'out.md'), 'utf8')).toBe('one\n');
    expect(statSync(join(root, 'out.md')).mode & 0o777).toBe(0o600);
    expect(await writeFileUnder({ root, path: 'out.md', data: 'two\n' })).toEqual({ replaced: 'file' });
    expect(readFileSync(join(root, 'out.md'), 'utf8')).toBe('two\n');
    expect(leftovers(root)).toEqual([]);
  });

  it('replaces a link at the target with a file, leaving the link target untouched', async () => {
    const { root, secret } = fixture();
    symlinkSync(secret, join(root, 'AGENTS.md'));
    expect(await writeFileUnder({ root, path: 'AGENTS.md', data: 'new text\n' })).toEqual({ replaced: 'symbolic-link' });
    expect(lstatSync(join(root, 'AGENTS.md')).isFile()).toBe(true);
    expect(readFileSync(join(root, 'AGENTS.md'), 'utf8')).toBe('new text\n');
    expect(readFileSync(secret, 'utf8')).toBe('HOST-SECRET-BYTES');
  });

  it('exclusive: refuses anything that has the name, a dangling link included', async () => {
    const { root } = fixture();
    symlinkSync(join(root, 'nowhere'), join(root, 'AGENTS.md'));
    expect(await refusal(writeFileUnder({ root, path: 'AGENTS.md', data: 'x', exclusive: true }))).toMatchObject({ reason: 'already-exists', code: 'already-exists' });
    expect(lstatSync(join(root, 'AGENTS.md')).isSymbolicLink()).toBe(true);
    await writeFileUnder({ root, path: 'fresh.md', data: 'x', exclusive: true });
    expect(readFileSync(join(root, 'fresh.md'), 'utf8')).toBe('x');
    expect(leftovers(root)).toEqual([]);
  });

  it('refuses a directory or a special file at the target, and a linked parent directory', async () => {
    const { root, outside } = fixture();
    mkdirSync(join(root, 'dir'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    symlinkSync(outside, join(root, 'docs'));
    expect((await refusal(writeFileUnder({ root, path: 'dir', data: 'x' }))).message).toContain('is a directory, not a regular file');
    expect((await refusal(writeFileUnder({ root, path: 'pipe', data: 'x' }))).message).toContain('is a named pipe (FIFO), not a regular file');
    expect((await refusal(writeFileUnder({ root, path: 'docs/new.md', data: 'x' }))).reason).toBe('symbolic-link');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(leftovers(root)).toEqual([]);
  });

  it('creates a directory on the way when asked, never through a link', async () => {
    const { root, outside } = fixture();
    const directory = await SafeDirectory.open({ root });
    const made = await directory?.directory('screenshots', { create: true });
    await made?.writeFile('a.png', 'png');
    await made?.close();
    symlinkSync(outside, join(root, 'linked'));
    expect((await refusal(directory?.directory('linked', { create: true }) ?? Promise.resolve())).reason).toBe('symbolic-link');
    await directory?.close();
    expect(readFileSync(join(root, 'screenshots', 'a.png'), 'utf8')).toBe('png');
    expect(readlinkSync(join(root, 'linked'))).toBe(outside);
  });

  it('renames an entry within its directory by descriptor: a link is moved, not followed, and nothing is replaced', async () => {
    const { root, outside, secret } = fixture();
    mkdirSync(join(root, 'hooks'));
    symlinkSync(secret, join(root, 'hooks', 'pre-commit'));
    writeFileSync(join(root, 'hooks', 'taken'), 'mine');
    writeFileSync(join(root, 'hooks', 'other'), 'other');
    const hooks = await SafeDirectory.open({ root, path: 'hooks' });
    // The directory swapped for a link to the host after it was opened: the rename still acts in the directory held.
    renameSync(join(root, 'hooks'), join(root, 'hooks-real'));
    symlinkSync(outside, join(root, 'hooks'));
    expect(await hooks?.rename('pre-commit', 'pre-commit.aside')).toBe(true);
    expect(readlinkSync(join(root, 'hooks-real', 'pre-commit.aside'))).toBe(secret);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect((await refusal(hooks?.rename('other', 'taken') ?? Promise.resolve())).reason).toBe('already-exists');
    expect(readFileSync(join(root, 'hooks-real', 'taken'), 'utf8')).toBe('mine');
    expect(await hooks?.rename('missing', 'x')).toBeUndefined();
    await hooks?.close();
  });
});
