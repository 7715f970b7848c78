import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SafeDirectory } from '../safe-file/index.js';

/**
 * What git on the host would read from a workspace, other than the repository's data: config,
 * hooks, `commondir`, `info/`, submodules' and worktrees' own metadata, and any `.git` that a
 * session creates further down the tree. A workstation may write all of these (only `.git/config`
 * and `.git/hooks` are mounted read-only), and several make the user's next `git` on the host
 * run a program (`core.fsmonitor`, `core.pager`, hooks, a `commondir` that points at another
 * config). A baseline taken at the session's start is what the guard (git-guard.ts) compares
 * against while the session runs and at its stop.
 */

/** One file or link under a git directory, by content. */
export interface GitMetadataEntry {
  /** Relative to the workspace, with `/` separators. */
  path: string;
  kind: 'file' | 'link' | 'dir';
  /** sha256 of the content (of the target for links); empty for directories. */
  digest: string;
  /** Whether anyone may execute it (hooks must be executable to run). */
  executable: boolean;
}

export interface GitMetadataSnapshot {
  takenAt: string;
  /** Where a git directory or `.git` file was found, relative to the workspace. */
  gitPaths: string[];
  entries: GitMetadataEntry[];
  /** True when a limit stopped the walk: a comparison can then miss changes. */
  incomplete: boolean;
}

export const gitMetadataSnapshotSchema = z.strictObject({
  takenAt: z.string(),
  gitPaths: z.array(z.string()),
  entries: z.array(z.strictObject({ path: z.string(), kind: z.enum(['file', 'link', 'dir']), digest: z.string(), executable: z.boolean() })),
  incomplete: z.boolean(),
});

export interface GitMetadataChange {
  path: string;
  change: 'added' | 'removed' | 'modified' | 'made-executable';
  /** Why it matters, for the person reading the report. */
  risk: string;
  /** Whether git on the host could run a program because of it. */
  runsOnHost: boolean;
}

export interface SnapshotOptions {
  /** Directories visited at most (a workspace's node_modules can be huge). */
  maxDirectories?: number;
  /** Entries kept at most under git directories. */
  maxEntries?: number;
  /** Bytes hashed per file at most (the size is always part of the digest). */
  maxHashBytes?: number;
  signal?: AbortSignal;
  deadlineMs?: number;
  /**
   * Leaves out what was created after this moment (file birth times): a baseline taken while the
   * session already runs then still does not count what the session made as "before".
   */
  createdBefore?: Date;
  /**
   * Walks only these git directories (relative to the workspace) instead of the whole tree: the
   * guard's quick look at a directory that just changed. `gitPaths` is then left empty.
   */
  gitDirs?: readonly string[];
}

/** The suffix of a neutralised file: git reads no file of that name (no hook, config or commondir is named so). */
export const QUARANTINE_MARK = '.nexora-quarantine-';

/** Directories nested deeper than this are not walked (each level holds a descriptor open). */
const MAX_DEPTH = 64;

/** Parts of a git directory that hold the repository's data, which a commit changes. */
const DATA_NAMES = new Set(['objects', 'refs', 'logs', 'index', 'packed-refs', 'HEAD', 'ORIG_HEAD', 'FETCH_HEAD', 'MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'COMMIT_EDITMSG', 'MERGE_MSG', 'AUTO_MERGE', 'lfs', 'rr-cache']);

/**
 * What can make git run a program comes first in a git directory's walk, so that a directory
 * filled to exhaust the walk's limits (`.git/aaa/…`) cannot hide a `commondir` or a hook.
 */
const DANGER_ORDER = ['commondir', 'config', 'config.worktree', 'gitdir', 'hooks', 'modules', 'worktrees', 'info'];

function byDangerFirst(a: string, b: string): number {
  const rank = (name: string): number => {
    const index = DANGER_ORDER.indexOf(name);
    return index < 0 ? DANGER_ORDER.length : index;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function isData(name: string): boolean {
  return DATA_NAMES.has(name) || name.endsWith('.lock');
}

/** Takes the baseline (or the after-picture) of every git directory in the workspace. */
export async function snapshotGitMetadata(workspaceDir: string, options: SnapshotOptions = {}): Promise<GitMetadataSnapshot> {
  const maxDirectories = options.maxDirectories ?? 50_000;
  const maxEntries = options.maxEntries ?? 5_000;
  const maxHashBytes = options.maxHashBytes ?? 1 << 20;
  const deadline = Date.now() + (options.deadlineMs ?? 10_000);
  const snapshot: GitMetadataSnapshot = { takenAt: new Date().toISOString(), gitPaths: [], entries: [], incomplete: false };
  let directories = 0;
  const overLimit = (): boolean => {
    options.signal?.throwIfAborted();
    if (directories > maxDirectories || snapshot.entries.length > maxEntries || Date.now() > deadline) snapshot.incomplete = true;
    return snapshot.incomplete;
  };

  const bornAfter = (stats: { birthtimeMs: number }): boolean =>
    options.createdBefore !== undefined && stats.birthtimeMs > 0 && stats.birthtimeMs > options.createdBefore.getTime();
  const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

  // Every look goes through the directory's descriptor (safe-file): a name swapped for a link
  // or a FIFO while we look is described or refused, never followed, never waited on.
  /** Records `name` in `dir` (at `path`); returns whether it is a real directory to walk into. */
  const record = async (dir: SafeDirectory, name: string, path: string): Promise<boolean> => {
    const stats = await dir.lstat(name).catch(() => undefined);
    if (!stats || bornAfter(stats)) return false;
    if (stats.isSymbolicLink()) {
      const target = await dir.readLink(name).catch(() => '');
      snapshot.entries.push({ path, kind: 'link', digest: sha256(target), executable: false });
    } else if (stats.isFile()) {
      const read = await dir.readFile(name, { maxBytes: maxHashBytes, oversize: 'truncate', ...(options.signal ? { signal: options.signal } : {}) }).catch(() => undefined);
      // Swapped for a link, a FIFO or a directory since the lstat: it counts as changed, unread.
      const digest = read ? createHash('sha256').update(`${read.sizeBytes}:`).update(read.bytes).digest('hex') : sha256(`${stats.size}:unreadable`);
      snapshot.entries.push({ path, kind: 'file', digest, executable: ((read?.stats.mode ?? stats.mode) & 0o111) !== 0 });
    } else if (stats.isDirectory()) {
      snapshot.entries.push({ path, kind: 'dir', digest: '', executable: (stats.mode & 0o111) !== 0 });
      return true;
    }
    return false;
  };

  /** Opens `name` in `dir` as a directory (a link or anything else there is skipped) and walks it. */
  const descend = async (dir: SafeDirectory, name: string, depth: number, walk: (sub: SafeDirectory, depth: number) => Promise<void>): Promise<void> => {
    // Each level holds one descriptor open: a tree nested deeper than this is not walked.
    if (depth >= MAX_DEPTH) {
      snapshot.incomplete = true;
      return;
    }
    const sub = await dir.directory(name).catch(() => undefined);
    if (!sub) return;
    try {
      await walk(sub, depth + 1);
    } finally {
      await sub.close();
    }
  };

  /** Everything in a git directory except its data; submodules' git directories are walked the same way. */
  const walkGitDir = async (dir: SafeDirectory, at: string, depth: number): Promise<void> => {
    if (overLimit()) return;
    directories += 1;
    const entries = await dir.entries().catch(() => []);
    for (const name of entries.map((entry) => entry.name).sort(byDangerFirst)) {
      if (isData(name)) continue;
      const path = join(at, name);
      if (await record(dir, name, path)) await descend(dir, name, depth, (sub, next) => walkGitDir(sub, path, next));
    }
  };

  const walkTree = async (dir: SafeDirectory, at: string, depth: number): Promise<void> => {
    if (overLimit()) return;
    directories += 1;
    const entries = await dir.entries().catch(() => []);
    // `.git` before its siblings: a tree made to exhaust the limits cannot hide it.
    for (const entry of entries.sort((a, b) => Number(b.name === '.git') - Number(a.name === '.git') || a.name.localeCompare(b.name))) {
      const path = join(at, entry.name);
      if (entry.name === '.git') {
        const stats = await dir.lstat(entry.name).catch(() => undefined);
        if (!stats || bornAfter(stats)) continue;
        snapshot.gitPaths.push(path);
        if (await record(dir, entry.name, path)) await descend(dir, entry.name, depth, (sub, next) => walkGitDir(sub, path, next));
      } else if (entry.kind === 'directory') {
        await descend(dir, entry.name, depth, (sub, next) => walkTree(sub, path, next));
      }
    }
  };

  const walkFrom = async (path: string, walk: (dir: SafeDirectory, at: string, depth: number) => Promise<void>): Promise<void> => {
    // The workspace directory itself is the user's choice; nothing under it is followed.
    const dir = await SafeDirectory.open({ root: workspaceDir, path, ...(options.signal ? { signal: options.signal } : {}) }).catch(() => undefined);
    if (!dir) return;
    try {
      await walk(dir, path.split('/').filter((name) => name !== '' && name !== '.').join('/'), 0);
    } finally {
      await dir.close();
    }
  };
  if (options.gitDirs) {
    for (const gitDir of options.gitDirs) await walkFrom(gitDir, walkGitDir);
  } else {
    await walkFrom('', walkTree);
  }
  return snapshot;
}

/** What changed between two pictures of the same workspace, the dangerous kinds first. */
export function diffGitMetadata(before: GitMetadataSnapshot, after: GitMetadataSnapshot): GitMetadataChange[] {
  const changes: GitMetadataChange[] = [];
  const old = new Map(before.entries.map((entry) => [entry.path, entry]));
  const now = new Map(after.entries.map((entry) => [entry.path, entry]));
  const knownGitPaths = new Set(before.gitPaths);
  const newGitPaths = after.gitPaths.filter((gitPath) => !knownGitPaths.has(gitPath));
  for (const gitPath of newGitPaths) {
    changes.push({ path: gitPath, change: 'added', risk: 'a new git repository: git run in that directory on the host reads its config and hooks', runsOnHost: true });
  }
  // A new repository is reported once, not file by file.
  const insideNew = (path: string): boolean => newGitPaths.some((gitPath) => path === gitPath || path.startsWith(`${gitPath}/`));
  for (const [path, entry] of now) {
    // What the guard moved aside is reported as neutralised, not as a change.
    if (insideNew(path) || isQuarantined(path)) continue;
    const previous = old.get(path);
    // A directory alone does nothing to git (its files are entries of their own); the empty
    // ones made to be mounted read-only (info/, worktrees/) are not the session's doing.
    if (!previous && entry.kind === 'dir') continue;
    if (!previous) changes.push({ path, change: 'added', ...riskOf(path) });
    else if (previous.digest !== entry.digest || previous.kind !== entry.kind) changes.push({ path, change: 'modified', ...riskOf(path) });
    else if (!previous.executable && entry.executable && entry.kind === 'file') changes.push({ path, change: 'made-executable', ...riskOf(path) });
  }
  for (const path of old.keys()) {
    if (!now.has(path) && !isQuarantined(path)) changes.push({ path, change: 'removed', ...riskOf(path) });
  }
  return changes.sort((a, b) => Number(b.runsOnHost) - Number(a.runsOnHost) || a.path.localeCompare(b.path));
}

/** Whether a path is a file the guard moved aside. */
export function isQuarantined(path: string): boolean {
  return (path.split('/').pop() ?? '').includes(QUARANTINE_MARK);
}

/** Something the guard moved aside so that git on the host cannot run it. */
export interface NeutralisedGitEntry {
  /** Relative to the workspace, with `/` separators. */
  path: string;
  /** Where it is now, relative to the workspace. */
  movedTo: string;
  /** What it would have made git on the host do. */
  reason: string;
  at: string;
}

function riskOf(path: string): { risk: string; runsOnHost: boolean } {
  const segments = path.split('/');
  const name = segments[segments.length - 1] ?? '';
  if (segments.includes('hooks')) return { risk: 'runs as a git hook on the host', runsOnHost: true };
  if (name === 'config' || name === 'config.worktree') return { risk: 'can name commands git runs (core.fsmonitor, core.pager, core.hooksPath, aliases, filters)', runsOnHost: true };
  if (name === 'commondir' || name === 'gitdir' || name === '.git') return { risk: 'points git at another directory, whose config and hooks then apply', runsOnHost: true };
  if (segments.includes('info')) return { risk: 'changes what git reads (attributes, excludes)', runsOnHost: false };
  return { risk: 'git metadata outside objects/refs/index/logs', runsOnHost: false };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
