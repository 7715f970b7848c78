import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

  it('makes .git a mount point with its config and hooks read-only, creating an empty hooks directory', () => {
    const root = workspace();
    execFileSync('git', ['init', '-q', root]);
    rmSync(join(root, '.git', 'hooks'), { recursive: true, force: true });
    expect(summary(root)).toEqual([
      '/workspace rw <ws>',
      '/workspace/.git rw <ws>/.git',
      '/workspace/.git/hooks ro <ws>/.git/hooks',
      '/workspace/.git/config ro <ws>/.git/config',
    ]);
    expect(existsSync(join(root, '.git', 'hooks'))).toBe(true);
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
