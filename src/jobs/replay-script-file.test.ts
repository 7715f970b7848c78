import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readReplayScript } from './replay-script-file.js';

const root = mkdtempSync(join(tmpdir(), 'nexora-script-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function failure(file: string): Promise<string> {
  const error = await readReplayScript(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected the script to be refused').toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('readReplayScript', () => {
  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = join(root, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    expect(await failure(fifo)).toMatch(/pipe\.json is a named pipe \(FIFO\), not a regular file/);
  });

  it('says a file is not JSON without quoting any of its bytes', async () => {
    const file = join(root, 'secret.json');
    writeFileSync(file, '{"steps": [SECRET-TOKEN-abc123');
    const message = await failure(file);
    expect(message).toContain('secret.json is not valid JSON');
    expect(message).not.toContain('SECRET');
  });

  it('refuses a script over the size limit, and names a missing one', async () => {
    const big = join(root, 'big.json');
    writeFileSync(big, Buffer.alloc(8 * 1024 * 1024 + 1, 0x20));
    expect(await failure(big)).toMatch(/over the 8 MiB limit/);
    expect(await failure(join(root, 'missing.json'))).toMatch(/missing\.json does not exist/);
  });
});
