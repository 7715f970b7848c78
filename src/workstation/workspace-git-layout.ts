import { createHash } from 'node:crypto';
import { closeSync, constants, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { entryPath } from '../safe-file/index.js';

/** One path under the workspace that the workstation sees through its own bind mount. */
export interface ProtectedGitPath {
  /** On the host. */
  source: string;
  /** Inside the workstation, under /workspace. */
  target: string;
  readOnly: boolean;
  /** The source's inode when planned: a pool member whose sources were replaced since is stale. */
  inode: number;
  /** The source's device when planned (with `inode`, what the container must show mounted there). */
  device: number;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

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
  // A `.git` link is not mounted: Docker would follow it to whatever host path it names.
  if (!stats || stats.isSymbolicLink()) return [];
  if (!stats.isDirectory()) return stats.isFile() ? [{ source: gitPath, target: '/workspace/.git', readOnly: true, inode: stats.ino, device: stats.dev }] : [];
  // Held open from here on, and everything under it reached through the descriptor: a name
  // swapped for a link meanwhile is refused, never followed (see safe-file/descriptor-path.ts).
  const fd = openDirectory(gitPath);
  if (fd === undefined) return [];
  try {
    const opened = fstatSync(fd);
    const plan: ProtectedGitPath[] = [{ source: gitPath, target: '/workspace/.git', readOnly: false, inode: opened.ino, device: opened.dev }];
    protectGitDir(plan, fd, gitPath, '/workspace/.git', 0);
    return plan;
  } finally {
    closeSync(fd);
  }
}

/**
 * A short fingerprint of a plan: a pool member records its own, and a claim compares it with
 * the plan of the workspace as it is now (a `.git` made or replaced, a submodule added).
 */
export function gitLayoutKey(plan: readonly ProtectedGitPath[]): string {
  const lines = plan.map((path) => `${path.target} ${path.readOnly ? 'ro' : 'rw'} ${path.inode}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

function protectGitDir(plan: ProtectedGitPath[], fd: number, hostDir: string, target: string, depth: number): void {
  const owner = fstatSync(fd);
  for (const name of PROTECTED_DIRECTORIES) {
    const path = entryPath(fd, name);
    // Something must be there to mount read-only, or the workstation could create it.
    // (EEXIST: something else made it first; what it is, the open below decides.)
    if (!lstatSync(path, { throwIfNoEntry: false })) mkdirOnce(path);
    const directory = openDirectory(path);
    if (directory === undefined) continue;
    try {
      // It belongs to the repository's owner, as if git had made it; fchown changes what was
      // opened (O_NOFOLLOW), so a name swapped for a link cannot give a host path away.
      if (process.getuid?.() === 0) fchownSync(directory, owner.uid, owner.gid);
      const stats = fstatSync(directory);
      plan.push({ source: join(hostDir, name), target: `${target}/${name}`, readOnly: true, inode: stats.ino, device: stats.dev });
    } finally {
      closeSync(directory);
    }
  }
  for (const name of PROTECTED_FILES) {
    const stats = lstatSync(entryPath(fd, name), { throwIfNoEntry: false });
    if (stats?.isFile()) plan.push({ source: join(hostDir, name), target: `${target}/${name}`, readOnly: true, inode: stats.ino, device: stats.dev });
  }
  if (depth >= MAX_MODULE_DEPTH) return;
  const modules = openDirectory(entryPath(fd, 'modules'));
  if (modules === undefined) return;
  try {
    for (const module of submoduleGitDirs(modules, 0)) {
      const moduleFd = openPath(modules, module);
      if (moduleFd === undefined) continue;
      try {
        protectGitDir(plan, moduleFd, join(hostDir, 'modules', module), `${target}/modules/${module}`, depth + 1);
      } finally {
        closeSync(moduleFd);
      }
    }
  } finally {
    closeSync(modules);
  }
}

/** Submodules' git directories under `modules/` (a submodule named `libs/a` lives at `modules/libs/a`). */
function submoduleGitDirs(fd: number, depth: number, prefix = ''): string[] {
  if (depth > MAX_MODULE_DEPTH) return [];
  const found: string[] = [];
  for (const entry of readdirSync(entryPath(fd), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const name = `${prefix}${entry.name}`;
    const sub = openDirectory(entryPath(fd, entry.name));
    if (sub === undefined) continue;
    try {
      if (lstatSync(entryPath(sub, 'HEAD'), { throwIfNoEntry: false })) found.push(name);
      else found.push(...submoduleGitDirs(sub, depth + 1, `${name}/`));
    } finally {
      closeSync(sub);
    }
  }
  return found;
}

/** Opens `relative` (names separated by `/`) under the directory `fd`, each name without following a link. */
function openPath(fd: number, relative: string): number | undefined {
  let current = fd;
  for (const name of relative.split('/')) {
    const next = openDirectory(entryPath(current, name));
    if (current !== fd) closeSync(current);
    if (next === undefined) return undefined;
    current = next;
  }
  return current === fd ? undefined : current;
}

function mkdirOnce(path: string): void {
  try {
    mkdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** A directory opened without following a link in its last name; undefined when it is missing, a link or not a directory. */
function openDirectory(path: string): number | undefined {
  try {
    return openSync(path, DIRECTORY_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
