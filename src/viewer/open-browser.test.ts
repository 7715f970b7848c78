import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openInBrowser } from './open-browser.js';

async function waitFor<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.runIf(process.platform === 'linux')('openInBrowser', () => {
  it('keeps the token off the command line: the browser gets a launcher page only this user can read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nexora-open-'));
    const bin = join(root, 'bin');
    const argvFile = join(root, 'argv');
    // A stand-in for the desktop's opener that records the arguments it was given.
    mkdirSync(bin);
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argvFile}'\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const token = 'S3cr3tT0kenValue';
    const url = `http://127.0.0.1:4567/t/${token}/#session"<x>`;
    const launcherDir = join(root, 'view');

    const opened = await openInBrowser({ url, launcherDir, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });

    expect(opened).toBe(true);
    const argv = await waitFor(() => (existsSync(argvFile) ? readFileSync(argvFile, 'utf8') : undefined));
    expect(argv).not.toContain(token);
    const launcher = fileURLToPath(argv.trim());
    expect(readdirSync(launcherDir)).toHaveLength(1);
    expect(statSync(launcher).mode & 0o777).toBe(0o600);
    expect(statSync(launcherDir).mode & 0o777).toBe(0o700);
    const page = readFileSync(launcher, 'utf8');
    expect(page).toContain(token);
    // The address is escaped: it cannot break out of the script or the attribute.
    expect(page).not.toContain('"<x>');
  });

  it('reports false and leaves no launcher when there is no opener', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nexora-open-'));
    const launcherDir = join(root, 'view');
    const opened = await openInBrowser({ url: 'http://127.0.0.1:1/t/x/', launcherDir, env: { ...process.env, PATH: join(root, 'empty') } });
    expect(opened).toBe(false);
    expect(readdirSync(launcherDir)).toHaveLength(0);
  });
});
