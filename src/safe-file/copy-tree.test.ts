import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyTree, refusalReason } from './index.js';

const base = mkdtempSync(join(tmpdir(), 'nexora-copy-tree-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let count = 0;
const limits = { maxEntries: 1000, maxBytes: 10 * 1024 ** 2 };

function fixture(): { from: string; to: string; outside: string } {
  const dir = join(base, String(++count));
  const from = join(dir, 'from');
  const outside = join(dir, 'outside');
  mkdirSync(from, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'HOST-SECRET-BYTES');
  return { from, to: join(dir, 'to'), outside };
}

describe('copyTree', () => {
  it('copies files, directories, modes and times; links as links, never followed; special files skipped', async () => {
    const { from, to, outside } = fixture();
    mkdirSync(join(from, 'src', 'deep'), { recursive: true });
    writeFileSync(join(from, 'src', 'deep', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(from, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(from, 'run.sh'), 0o4755);
    utimesSync(join(from, 'run.sh'), new Date('2020-01-01'), new Date('2020-01-02'));
    mkdirSync(join(from, 'readonly'));
    writeFileSync(join(from, 'readonly', 'f'), 'f');
    chmodSync(join(from, 'readonly'), 0o555);
    symlinkSync(join(outside, 'secret.txt'), join(from, 'AGENTS.md'));
    symlinkSync(outside, join(from, 'docs'));
    execFileSync('mkfifo', [join(from, 'pipe')]);

    const result = await copyTree({ from, to, limits });
    expect(result).toEqual({ files: 3, directories: 3, links: 2, bytes: 31, skipped: 1 });
    expect(readFileSync(join(to, 'src', 'deep', 'a.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(statSync(join(to, 'run.sh')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(to, 'run.sh')).mtime.toISOString()).toBe('2020-01-02T00:00:00.000Z');
    expect(statSync(join(to, 'readonly')).mode & 0o777).toBe(0o555);
    expect(readFileSync(join(to, 'readonly', 'f'), 'utf8')).toBe('f');
    expect(lstatSync(join(to, 'AGENTS.md')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(to, 'AGENTS.md'))).toBe(join(outside, 'secret.txt'));
    expect(lstatSync(join(to, 'docs')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(to, 'pipe'))).toBe(false);
  });

  it('removes a copy that goes over the limits and says which', async () => {
    const { from, to } = fixture();
    writeFileSync(join(from, 'big'), 'x'.repeat(3000));
    const error = await copyTree({ from, to, limits: { maxEntries: 10, maxBytes: 2048 } }).catch((caught: unknown) => caught);
    expect(refusalReason(error)).toBe('too-large');
    expect((error as Error).message).toContain('over 10 entries or 2 KiB');
    expect(existsSync(to)).toBe(false);

    for (let index = 0; index < 5; index++) writeFileSync(join(from, `f${index}`), '');
    const entries = await copyTree({ from, to, limits: { maxEntries: 3, maxBytes: 1e9 } }).catch((caught: unknown) => caught);
    expect(refusalReason(entries)).toBe('too-large');
    expect(existsSync(to)).toBe(false);
  });

  it('refuses a target that exists, and leaves it alone', async () => {
    const { from, to } = fixture();
    mkdirSync(to);
    writeFileSync(join(to, 'keep'), 'keep');
    await expect(copyTree({ from, to, limits })).rejects.toThrow(`Cannot copy to ${to}: it already exists.`);
    expect(readFileSync(join(to, 'keep'), 'utf8')).toBe('keep');
  });
});
