import { createHash } from 'node:crypto';
import { chownSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** One path under the workspace that the workstation sees through its own bind mount. */
export interface ProtectedGitPath {
  /** On the host. */
  source: string;
  /** Inside the workstation, under /workspace. */
  target: string;
  readOnly: boolean;
  /** The source's inode when planned: a pool member whose sources were replaced since is stale. */
  inode: number;
}

/** Submodules nest their git directories under `.git/modules/…`: how deep to protect them. */
const MAX_MODULE_DEPTH = 4;
/** Files that name commands or other directories for git, mounted read-only where they exist. */
const PROTECTED_FILES = ['config', 'commondir', 'config.worktree', 'gitdir'];
/**
 * Directories mounted read-only, made empty first where missing (git itself makes them; an empty
 * one means nothing to git on the host). `hooks` run; `info/` feeds attributes and excludes;
 * `worktrees/` holds other git directories, each with its own `commondir` and `gitdir`.
 */
const PROTECTED_DIRECTORIES = ['hooks', 'info', 'worktrees'];

/**
 * What of the workspace's git metadata the workstation gets read-only, planned from what is on
 * disk now: `.git` itself as its own mount point (so it can be neither renamed nor replaced), and
 * in it and in each submodule's git directory under `modules/` the files and directories of
 * PROTECTED_FILES and PROTECTED_DIRECTORIES. A `.git` file (a worktree or submodule checkout) is
 * read-only whole, since it names the directory git uses. Objects, refs, the index and logs stay
 * writable, so commits work. What a plan cannot cover (a `commondir` that did not exist, a
 * repository created later) the session's git guard handles (sessions/git-guard.ts).
 */
export function planGitProtection(workspaceDir: string): ProtectedGitPath[] {
  const gitPath = join(workspaceDir, '.git');
  const stats = lstatSync(gitPath, { throwIfNoEntry: false });
  if (!stats) return [];
  if (!stats.isDirectory()) return [{ source: gitPath, target: '/workspace/.git', readOnly: true, inode: stats.ino }];
  const plan: ProtectedGitPath[] = [{ source: gitPath, target: '/workspace/.git', readOnly: false, inode: stats.ino }];
  protectGitDir(plan, gitPath, '/workspace/.git', 0);
  return plan;
}

/**
 * A short fingerprint of a plan: a pool member records its own, and a claim compares it with
 * the plan of the workspace as it is now (a `.git` made or replaced, a submodule added).
 */
export function gitLayoutKey(plan: readonly ProtectedGitPath[]): string {
  const lines = plan.map((path) => `${path.target} ${path.readOnly ? 'ro' : 'rw'} ${path.inode}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

function protectGitDir(plan: ProtectedGitPath[], hostDir: string, target: string, depth: number): void {
  const owner = lstatSync(hostDir);
  for (const name of PROTECTED_DIRECTORIES) {
    const path = join(hostDir, name);
    let stats = lstatSync(path, { throwIfNoEntry: false });
    if (!stats) {
      // Something must be there to mount read-only, or the workstation could create it. It
      // belongs to the repository's owner, as if git had made it.
      mkdirSync(path);
      if (process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
      stats = lstatSync(path);
    }
    if (stats.isDirectory()) plan.push({ source: path, target: `${target}/${name}`, readOnly: true, inode: stats.ino });
  }
  for (const name of PROTECTED_FILES) {
    const path = join(hostDir, name);
    const stats = lstatSync(path, { throwIfNoEntry: false });
    if (stats?.isFile()) plan.push({ source: path, target: `${target}/${name}`, readOnly: true, inode: stats.ino });
  }
  if (depth >= MAX_MODULE_DEPTH) return;
  for (const module of submoduleGitDirs(join(hostDir, 'modules'), 0)) {
    protectGitDir(plan, join(hostDir, 'modules', module), `${target}/modules/${module}`, depth + 1);
  }
}

/** Submodules' git directories under `modules/` (a submodule named `libs/a` lives at `modules/libs/a`). */
function submoduleGitDirs(modulesDir: string, depth: number, prefix = ''): string[] {
  const stats: Stats | undefined = lstatSync(modulesDir, { throwIfNoEntry: false });
  if (!stats?.isDirectory() || depth > MAX_MODULE_DEPTH) return [];
  const found: string[] = [];
  for (const entry of readdirSync(modulesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const name = `${prefix}${entry.name}`;
    if (lstatSync(join(modulesDir, entry.name, 'HEAD'), { throwIfNoEntry: false })) found.push(name);
    else found.push(...submoduleGitDirs(join(modulesDir, entry.name), depth + 1, `${name}/`));
  }
  return found;
}
