import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitLayoutKey, planGitProtection } from '../workspace-git-layout.js';
import { workspaceMounts } from './workspace-mounts.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function workspace(): string {
  const root = mkdtempSync(join(tmpdir(), 'nexora-mounts-'));
  roots.push(root);
  return root;
}

const summary = (root: string): string[] =>
  workspaceMounts(root).map((mount) => `${mount.Target} ${mount.ReadOnly ? 'ro' : 'rw'} ${(mount.Source ?? '').replace(root, '<ws>')}`);

describe('workspaceMounts', () => {
  it('mounts a workspace without git as it is', () => {
    const root = workspace();
    expect(summary(root)).toEqual(['/workspace rw <ws>']);
  });

  it('makes .git a mount point with config, hooks, info/ and worktrees/ read-only, creating empty directories where missing', () => {
    const root = workspace();
    execFileSync('git', ['init', '-q', root]);
    rmSync(join(root, '.git', 'hooks'), { recursive: true, force: true });
    rmSync(join(root, '.git', 'info'), { recursive: true, force: true });
    expect(summary(root)).toEqual([
      '/workspace rw <ws>',
      '/workspace/.git rw <ws>/.git',
      '/workspace/.git/hooks ro <ws>/.git/hooks',
      '/workspace/.git/info ro <ws>/.git/info',
      '/workspace/.git/worktrees ro <ws>/.git/worktrees',
      '/workspace/.git/config ro <ws>/.git/config',
    ]);
    for (const name of ['hooks', 'info', 'worktrees']) expect(existsSync(join(root, '.git', name))).toBe(true);
    // The placeholders leave host git working.
    execFileSync('git', ['-C', root, 'status', '--short']);
  });

  it('mounts an existing commondir, config.worktree and gitdir read-only, and never creates them', () => {
    const root = workspace();
    execFileSync('git', ['init', '-q', root]);
    writeFileSync(join(root, '.git', 'config.worktree'), '[core]\n');
    writeFileSync(join(root, '.git', 'commondir'), '.\n');
    expect(summary(root)).toEqual(
      expect.arrayContaining(['/workspace/.git/commondir ro <ws>/.git/commondir', '/workspace/.git/config.worktree ro <ws>/.git/config.worktree']),
    );
    const bare = workspace();
    execFileSync('git', ['init', '-q', bare]);
    expect(summary(bare).some((line) => /commondir|config\.worktree|gitdir/.test(line))).toBe(false);
    expect(existsSync(join(bare, '.git', 'commondir'))).toBe(false);
  });

  it('fingerprints the layout: the same workspace gives the same key; a new .git, a replaced config or a submodule changes it', () => {
    const root = workspace();
    const none = gitLayoutKey(planGitProtection(root));
    execFileSync('git', ['init', '-q', root]);
    const initialised = gitLayoutKey(planGitProtection(root));
    expect(initialised).not.toBe(none);
    expect(gitLayoutKey(planGitProtection(root))).toBe(initialised);
    // `git config` on the host replaces the file (a new inode): a member's mount shows the old one.
    execFileSync('git', ['-C', root, 'config', 'user.name', 'someone']);
    const configured = gitLayoutKey(planGitProtection(root));
    expect(configured).not.toBe(initialised);
    const module = join(root, '.git', 'modules', 'libs', 'a');
    mkdirSync(module, { recursive: true });
    writeFileSync(join(module, 'HEAD'), 'ref: refs/heads/main\n');
    expect(gitLayoutKey(planGitProtection(root))).not.toBe(configured);
    expect(summary(root)).toEqual(expect.arrayContaining(['/workspace/.git/modules/libs/a/hooks ro <ws>/.git/modules/libs/a/hooks']));
  });

  it('protects submodules’ git directories the same way', () => {
    const root = workspace();
    execFileSync('git', ['init', '-q', root]);
    const module = join(root, '.git', 'modules', 'lib');
    mkdirSync(join(module, 'hooks'), { recursive: true });
    writeFileSync(join(module, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(module, 'config'), '[core]\n');
    expect(summary(root)).toEqual(
      expect.arrayContaining(['/workspace/.git/modules/lib/hooks ro <ws>/.git/modules/lib/hooks', '/workspace/.git/modules/lib/config ro <ws>/.git/modules/lib/config']),
    );
  });

  it('mounts a .git file (a worktree or submodule checkout) read-only whole', () => {
    const root = workspace();
    writeFileSync(join(root, '.git'), 'gitdir: /somewhere/else\n');
    expect(summary(root)).toEqual(['/workspace rw <ws>', '/workspace/.git ro <ws>/.git']);
  });
});
