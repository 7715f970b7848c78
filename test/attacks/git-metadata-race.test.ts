import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { snapshotGitMetadata, type GitMetadataSnapshot } from '../../src/sessions/git-metadata.js';
import { neutraliseGitRisks } from '../../src/sessions/git-neutralise.js';
import { planGitProtection } from '../../src/workstation/workspace-git-layout.js';
import { eventually } from '../fixtures/eventually.js';
import { startNameSwapper } from '../fixtures/name-swapper.js';

/**
 * The git guard against a workstation that races it: while the host snapshots the workspace's
 * git metadata (hashing hooks and configs, walking `.git`), a process swaps a hook for a link to
 * a host file, `.git/hooks` itself for a link to a host directory, or a config for a FIFO —
 * atomically (renameat2 RENAME_EXCHANGE), as fast as it can. Before safe-file, the snapshot read
 * directories and files by path, so a swap between its lstat and its open or readdir got a host
 * file hashed or a host directory walked, and a FIFO could block a libuv thread for good. Now
 * every snapshot must describe only the workspace's own entries (or the link, as a link), and
 * each must finish within seconds.
 */
const root = mkdtempSync(join(tmpdir(), 'nexora-git-race-'));
const hostMarker = `HOSTONLY${randomBytes(6).toString('hex')}`;
const hostDir = join(root, 'host', 'hooks');
mkdirSync(hostDir, { recursive: true });
writeFileSync(join(hostDir, 'pre-commit'), `#!/bin/sh\necho ${hostMarker}\n`, { mode: 0o755 });
writeFileSync(join(hostDir, hostMarker), 'host file\n');
const hostFile = join(hostDir, 'pre-commit');

const swappers: ChildProcess[] = [];
afterEach(() => {
  for (const swapper of swappers.splice(0)) swapper.kill('SIGKILL');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ownHook = '#!/bin/sh\necho workspace hook\n';
const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
/** How the snapshot hashes a file: its size, then its bytes (see git-metadata.ts). */
const fileDigest = (bytes: Buffer): string => sha256(Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]));
const hostDigest = fileDigest(readFileSync(hostFile));

function workspace(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, '.git', 'hooks'), { recursive: true });
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(dir, '.git', 'config'), '[core]\n\tbare = false\n');
  writeFileSync(join(dir, '.git', 'hooks', 'pre-commit'), ownHook, { mode: 0o755 });
  return dir;
}

/** Takes `total` snapshots, `parallel` at once; each must finish within `perCallMs` (a FIFO opened blocking never would). */
async function snapshots(dir: string, options: { total: number; parallel: number; perCallMs: number; check: (snapshot: GitMetadataSnapshot) => void }): Promise<{ calls: number; ms: number; slowestMs: number }> {
  const started = Date.now();
  let calls = 0;
  let slowestMs = 0;
  const worker = async (): Promise<void> => {
    while (calls < options.total) {
      calls++;
      const begun = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`a snapshot did not finish within ${options.perCallMs} ms`)), options.perCallMs)));
      try {
        options.check(await Promise.race([snapshotGitMetadata(dir), hung]));
      } finally {
        clearTimeout(timer);
      }
      slowestMs = Math.max(slowestMs, Date.now() - begun);
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  return { calls, ms: Date.now() - started, slowestMs };
}

describe('git metadata snapshots race a process swapping git files and directories for links and FIFOs', () => {
  it('a hook swapped for a link to a host file: 3,000 snapshots, the host file never hashed', async () => {
    const dir = workspace('hook-link');
    const hook = join(dir, '.git', 'hooks', 'pre-commit');
    const link = join(dir, '.git', 'hooks', '.pre-commit.link');
    symlinkSync(hostFile, link);
    const swapper = await startNameSwapper([[hook, link]]);
    swappers.push(swapper.child);
    const seen = { file: 0, link: 0, unreadable: 0 };
    const own = fileDigest(Buffer.from(ownHook));
    const unreadable = sha256(`${Buffer.byteLength(ownHook)}:unreadable`);
    const result = await snapshots(dir, {
      total: 3_000,
      parallel: 4,
      perCallMs: 10_000,
      check: (snapshot) => {
        for (const entry of snapshot.entries) expect(entry.digest, entry.path).not.toBe(hostDigest);
        const entry = snapshot.entries.find((candidate) => candidate.path === '.git/hooks/pre-commit');
        if (entry?.kind === 'link') {
          // Its target's text (never its target's bytes), or empty when swapped back before readlink.
          expect([sha256(hostFile), sha256('')]).toContain(entry.digest);
          seen.link++;
        } else if (entry?.kind === 'file') {
          // Its own bytes, or (swapped between the lstat and the open) refused unread.
          expect([own, unreadable]).toContain(entry.digest);
          seen[entry.digest === own ? 'file' : 'unreadable']++;
        }
      },
    });
    console.log(`hook ↔ link: ${result.calls} snapshots in ${(result.ms / 1000).toFixed(1)} s (slowest ${result.slowestMs} ms) — ${seen.file} hashed the workspace's hook, ${seen.link} saw the link as a link, ${seen.unreadable} refused a swapped-in link; 0 hashed the host file; the swapper did ${swapper.rounds()}+ rounds`);
    expect(result.calls).toBe(3_000);
    expect(seen.file).toBeGreaterThan(0);
    expect(seen.link).toBeGreaterThan(0);
  }, 180_000);

  it('.git/hooks swapped for a link to a host directory: 3,000 snapshots, the host directory never walked, and the guard never moves a host file', async () => {
    const dir = workspace('hooks-dir-link');
    const hooks = join(dir, '.git', 'hooks');
    const link = join(dir, '.git', '.hooks.link');
    symlinkSync(hostDir, link);
    const before = await snapshotGitMetadata(join(root, 'no-such-workspace'));
    const swapper = await startNameSwapper([[hooks, link]]);
    swappers.push(swapper.child);
    const own = fileDigest(Buffer.from(ownHook));
    const seen = { walked: 0, link: 0 };
    const result = await snapshots(dir, {
      total: 3_000,
      parallel: 4,
      perCallMs: 10_000,
      check: (snapshot) => {
        for (const entry of snapshot.entries) {
          expect(entry.path).not.toContain(hostMarker);
          expect(entry.digest, entry.path).not.toBe(hostDigest);
          if (entry.path.endsWith('/pre-commit') && entry.kind === 'file') expect(entry.digest).toBe(own);
        }
        const entry = snapshot.entries.find((candidate) => candidate.path === '.git/hooks');
        if (entry?.kind === 'dir') seen.walked++;
        if (entry?.kind === 'link') seen.link++;
      },
    });
    // The guard's move-aside, racing the same swap (until it moves the link itself aside, which
    // ends the swapper): whatever it moves or changes is in the workspace.
    for (let round = 0; round < 200; round++) {
      await neutraliseGitRisks({ workspaceDir: dir, before, after: await snapshotGitMetadata(dir) });
      expect(readdirSync(hostDir).sort()).toEqual([hostMarker, 'pre-commit'].sort());
    }
    console.log(`.git/hooks ↔ link: ${result.calls} snapshots in ${(result.ms / 1000).toFixed(1)} s (slowest ${result.slowestMs} ms) — ${seen.walked} walked the workspace's hooks, ${seen.link} saw the link as a link; 0 walked the host directory; the swapper did ${swapper.rounds()}+ rounds`);
    expect(result.calls).toBe(3_000);
    expect(seen.walked).toBeGreaterThan(0);
    expect(seen.link).toBeGreaterThan(0);
    expect(readFileSync(hostFile, 'utf8')).toContain(hostMarker);
    // Executable still: the guard clears execute bits only through a handle on the workspace's own file.
    expect(statSync(hostFile).mode & 0o777).toBe(0o755);
  }, 180_000);

  it('.git/config swapped for a FIFO nobody writes: 2,000 snapshots, none hangs', async () => {
    const dir = workspace('config-fifo');
    const fifo = join(dir, '.git', '.config.fifo');
    execFileSync('mkfifo', [fifo]);
    const swapper = await startNameSwapper([[join(dir, '.git', 'config'), fifo]]);
    swappers.push(swapper.child);
    const result = await snapshots(dir, { total: 2_000, parallel: 4, perCallMs: 10_000, check: () => undefined });
    console.log(`.git/config ↔ FIFO: ${result.calls} snapshots in ${(result.ms / 1000).toFixed(1)} s (slowest ${result.slowestMs} ms); none blocked; the swapper did ${swapper.rounds()}+ rounds`);
    expect(result.calls).toBe(2_000);
  }, 180_000);

  it.runIf(process.getuid?.() === 0)('as root, the hooks directory the mount plan creates is chowned by descriptor: a link swapped in never hands a host directory to the workspace owner', async () => {
    const dir = workspace('plan-chown');
    const victim = join(root, 'host', 'victim');
    mkdirSync(victim);
    // The repository belongs to someone else, as the user's project does when the server runs as root.
    for (const path of [dir, join(dir, '.git')]) chownSync(path, 4321, 4321);
    const hooks = join(dir, '.git', 'hooks');
    rmSync(hooks, { recursive: true });
    // The attacker: removes whatever directory the plan made and puts a link to the host directory there, over and over.
    const source = `
import os, sys
hooks, victim = sys.argv[1], sys.argv[2]
rounds = 0
while True:
    try: os.rmdir(hooks)
    except OSError: pass
    try: os.symlink(victim, hooks)
    except OSError: pass
    try: os.unlink(hooks)
    except OSError: pass
    rounds += 1
    if rounds % 500 == 0: print(rounds, flush=True)
`;
    const child = spawn('python3', ['-c', source, hooks, victim], { stdio: ['ignore', 'pipe', 'inherit'] });
    swappers.push(child);
    let rounds = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (rounds = Number(chunk.trim().split('\n').at(-1))));
    await eventually(() => Promise.resolve(rounds), (value) => value > 0, 'the attacker to start');
    let planned = 0;
    let protectedHooks = 0;
    for (; planned < 3_000; planned++) {
      const plan = planGitProtection(dir);
      if (plan.some((path) => path.target === '/workspace/.git/hooks')) protectedHooks++;
      expect(statSync(victim).uid).toBe(0);
      // Yield so the attacker's removals land between plans too.
      if (planned % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    console.log(`hooks dir ↔ link while planning as root: ${planned} plans, ${protectedHooks} with the hooks directory mounted; the host directory stayed root's; the attacker did ${rounds}+ rounds`);
    expect(statSync(victim).uid).toBe(0);
    expect(protectedHooks).toBeGreaterThan(0);
  }, 180_000);
});
