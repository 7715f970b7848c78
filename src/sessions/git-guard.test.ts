import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitGuard } from './git-guard.js';
import { snapshotGitMetadata } from './git-metadata.js';
import type { NeutraliseResult } from './git-neutralise.js';
import { neutraliseGitRisks } from './git-neutralise.js';

// Real directories and real git on this machine; the "workstation" is this test writing into them.

const roots: string[] = [];
const guards: GitGuard[] = [];
afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.close();
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'nexora-git-guard-'));
  roots.push(root);
  execFileSync('git', ['init', '-q', root]);
  return root;
}

const marker = (root: string): string => join(root, '..', `${root.split('/').pop() ?? ''}-ran`);
const hostileConfig = (root: string): string => `[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch ${marker(root)}\n`;
const hostGit = (root: string, ...args: string[]): string => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' });

describe('neutraliseGitRisks', () => {
  it('moves aside a commondir, a hook, a risky nested config, a link and a stray .git file; leaves a plain clone and the baseline alone', async () => {
    const root = repository();
    // The user's own risky setting, there before the session: never touched.
    hostGit(root, 'config', 'core.pager', 'less');
    const before = await snapshotGitMetadata(root);
    writeFileSync(join(root, '.git', 'commondir'), 'elsewhere\n');
    writeFileSync(join(root, '.git', 'hooks', 'pre-commit'), `#!/bin/sh\ntouch ${marker(root)}\n`);
    chmodSync(join(root, '.git', 'hooks', 'pre-commit'), 0o755);
    execFileSync('git', ['init', '-q', join(root, 'nested')]);
    writeFileSync(join(root, 'nested', '.git', 'config'), hostileConfig(root));
    execFileSync('git', ['clone', '-q', join(root, 'nested'), join(root, 'plain')]);
    mkdirSync(join(root, 'linked'));
    symlinkSync('/etc', join(root, 'linked', '.git'));
    mkdirSync(join(root, 'pointer'));
    writeFileSync(join(root, 'pointer', '.git'), 'gitdir: ../nested/.git\n');
    const after = await snapshotGitMetadata(root);
    const result = await neutraliseGitRisks({ workspaceDir: root, before, after });
    expect(result.failed).toEqual([]);
    expect(result.neutralised.map((entry) => entry.path).sort()).toEqual(['.git/commondir', '.git/hooks/pre-commit', 'linked/.git', 'nested/.git/config', 'pointer/.git']);
    const moved = result.neutralised.find((entry) => entry.path === '.git/hooks/pre-commit');
    expect(statSync(join(root, moved?.movedTo ?? '')).mode & 0o111).toBe(0);
    expect(existsSync('/etc/passwd')).toBe(true);
    hostGit(root, 'status', '--short');
    hostGit(join(root, 'nested'), 'status', '--short');
    hostGit(join(root, 'plain'), 'status', '--short');
    expect(existsSync(marker(root))).toBe(false);
    expect(hostGit(root, 'config', 'core.pager').trim()).toBe('less');
  });
});

describe('GitGuard', () => {
  it('moves a planted commondir and a nested repository’s hostile config aside within moments, and says so', async () => {
    const root = repository();
    const baseline = await snapshotGitMetadata(root);
    const results: NeutraliseResult[] = [];
    let notify: () => void = () => undefined;
    const guard = new GitGuard({ workspaceDir: root, baseline, rescanIntervalMs: 60_000, onNeutralised: (result) => { results.push(result); notify(); } });
    guards.push(guard);
    guard.start();
    const neutralised = (count: number): Promise<void> =>
      new Promise((resolve) => {
        notify = () => guard.neutralised.length >= count && resolve();
        notify();
      });
    const written = Date.now();
    writeFileSync(join(root, '.git', 'commondir'), 'elsewhere\n');
    await neutralised(1);
    const latencyMs = Date.now() - written;
    // No rescan is due for a minute: the watch on the root sees the new repository.
    execFileSync('git', ['init', '-q', join(root, 'deep')]);
    writeFileSync(join(root, 'deep', '.git', 'config'), hostileConfig(root));
    await neutralised(2);
    expect(guard.neutralised.map((entry) => entry.path)).toEqual(['.git/commondir', 'deep/.git/config']);
    expect(readdirSync(join(root, '.git')).some((name) => name.startsWith('commondir.nexora-quarantine-'))).toBe(true);
    hostGit(join(root, 'deep'), 'status');
    expect(existsSync(marker(root))).toBe(false);
    expect(latencyMs).toBeLessThan(1000);
  });
});

describe('a tree made to exhaust the walk', () => {
  it('cannot hide a commondir: what can run is walked first', async () => {
    const root = repository();
    const before = await snapshotGitMetadata(root, { maxDirectories: 20 });
    for (let index = 0; index < 40; index += 1) mkdirSync(join(root, '.git', 'aaa', `d${index}`), { recursive: true });
    for (let index = 0; index < 40; index += 1) mkdirSync(join(root, '.aaa', `d${index}`), { recursive: true });
    writeFileSync(join(root, '.git', 'commondir'), 'elsewhere\n');
    const after = await snapshotGitMetadata(root, { maxDirectories: 20 });
    expect(after.incomplete).toBe(true);
    const result = await neutraliseGitRisks({ workspaceDir: root, before, after });
    expect(result.neutralised.map((entry) => entry.path)).toEqual(['.git/commondir']);
  });
});
