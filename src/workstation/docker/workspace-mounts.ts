import { chownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';

type Mount = NonNullable<NonNullable<Docker.ContainerCreateOptions['HostConfig']>['Mounts']>[number];

/** Submodules nest their git directories under `.git/modules/…`: how deep to protect them. */
const MAX_MODULE_DEPTH = 4;

/**
 * The workspace at /workspace, with the parts of its git metadata that make git on the host run
 * a program mounted read-only: `.git/config` (core.fsmonitor, core.pager, core.hooksPath,
 * aliases, filters) and `.git/hooks`, and the same for each submodule's git directory. `.git`
 * is itself a mount point, so a process in the workstation can neither rename it nor put another
 * directory in its place; a `.git` file (a worktree or submodule checkout) is read-only whole,
 * since it names the directory git uses. Commits still work: objects, refs, the index and logs
 * stay writable. What these mounts cannot cover (a new `.git` elsewhere, a `commondir` file) is
 * reported at the end of a run (sessions/git-metadata.ts).
 */
export function workspaceMounts(workspaceDir: string): Mount[] {
  const mounts: Mount[] = [{ Type: 'bind', Source: workspaceDir, Target: '/workspace', ReadOnly: false }];
  const gitPath = join(workspaceDir, '.git');
  const stats = lstatSync(gitPath, { throwIfNoEntry: false });
  if (!stats) return mounts;
  if (!stats.isDirectory()) {
    mounts.push({ Type: 'bind', Source: gitPath, Target: '/workspace/.git', ReadOnly: true });
    return mounts;
  }
  mounts.push({ Type: 'bind', Source: gitPath, Target: '/workspace/.git', ReadOnly: false });
  protectGitDir(mounts, gitPath, '/workspace/.git', 0);
  return mounts;
}

function protectGitDir(mounts: Mount[], hostDir: string, target: string, depth: number): void {
  const owner = lstatSync(hostDir);
  const hooks = join(hostDir, 'hooks');
  const hooksStats = lstatSync(hooks, { throwIfNoEntry: false });
  if (!hooksStats) {
    // Something must be there to mount read-only, or the workstation could create it; git
    // itself makes this directory at `git init`. It belongs to the repository's owner.
    mkdirSync(hooks);
    if (process.getuid?.() === 0) chownSync(hooks, owner.uid, owner.gid);
  }
  if (!hooksStats || hooksStats.isDirectory()) mounts.push({ Type: 'bind', Source: hooks, Target: `${target}/hooks`, ReadOnly: true });
  const config = join(hostDir, 'config');
  if (lstatSync(config, { throwIfNoEntry: false })?.isFile()) mounts.push({ Type: 'bind', Source: config, Target: `${target}/config`, ReadOnly: true });
  if (depth >= MAX_MODULE_DEPTH) return;
  const modules = join(hostDir, 'modules');
  if (!lstatSync(modules, { throwIfNoEntry: false })?.isDirectory()) return;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (entry.isDirectory() && lstatSync(join(modules, entry.name, 'HEAD'), { throwIfNoEntry: false })) {
      protectGitDir(mounts, join(modules, entry.name), `${target}/modules/${entry.name}`, depth + 1);
    }
  }
}
