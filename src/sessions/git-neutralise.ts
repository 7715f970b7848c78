import { dirname, relative, resolve, sep } from 'node:path';
import { readFileUnder, SafeDirectory, type FileRead } from '../safe-file/index.js';
import { gitConfigRisks } from './git-config-risk.js';
import { isQuarantined, QUARANTINE_MARK, type GitMetadataEntry, type GitMetadataSnapshot, type NeutralisedGitEntry } from './git-metadata.js';

/** Config files larger than this are not parsed: they count as risky. */
const MAX_CONFIG_BYTES = 256 * 1024;

/**
 * Why git on the host would run a program because of this new or changed entry; undefined
 * when it would not. What existed at the baseline is the user's and is never judged here.
 */
export async function hostRunReason(entry: GitMetadataEntry, workspaceDir: string): Promise<string | undefined> {
  const segments = entry.path.split('/');
  const name = segments[segments.length - 1] ?? '';
  const parent = segments[segments.length - 2];
  if (isQuarantined(entry.path) || entry.kind === 'dir') return undefined;
  if (entry.kind === 'link') return 'a symbolic link in git metadata: git on the host would follow it to files the workstation chose';
  if (name === 'commondir') return 'a commondir: git on the host would take its config and hooks from the directory it names';
  if (parent === 'hooks' && !name.endsWith('.sample')) return 'a git hook: git on the host would run it';
  if (name === 'config' || name === 'config.worktree') {
    const read = await readUnder(workspaceDir, entry.path, MAX_CONFIG_BYTES);
    if (!read) return undefined;
    if (read.truncated) return 'a git config too large to check';
    const risks = gitConfigRisks(read.bytes.toString('utf8'));
    if (risks.length === 0) return undefined;
    return `a git config that sets ${risks.slice(0, 4).join(', ')}${risks.length > 4 ? ` and ${risks.length - 4} more` : ''}`;
  }
  if (name === '.git') return gitFileReason(entry, workspaceDir);
  return undefined;
}

/**
 * A `.git` file (a submodule or worktree checkout) names the git directory to use. One made by
 * `git submodule` points into `.git/modules/` (or `.git/worktrees/`) of a repository in the
 * workspace, whose metadata the guard checks like any other; anything else is moved aside.
 */
async function gitFileReason(entry: GitMetadataEntry, workspaceDir: string): Promise<string | undefined> {
  const read = await readUnder(workspaceDir, entry.path, 4096);
  if (!read) return undefined;
  const match = /^gitdir: (.+)\n?$/.exec(read.bytes.toString('utf8'));
  const target = match?.[1];
  const outside = 'a .git file that points git at a directory outside the workspace’s own git directories';
  if (!target || target.startsWith('/')) return outside;
  const resolved = relative(workspaceDir, resolve(workspaceDir, dirname(entry.path), target)).split(sep);
  if (resolved[0] === '..') return outside;
  const gitIndex = resolved.indexOf('.git');
  const next = resolved[gitIndex + 1];
  return gitIndex >= 0 && (next === 'modules' || next === 'worktrees') && resolved.length > gitIndex + 2 ? undefined : outside;
}

/** The entries of `after` that are new or differ from `before`. */
export function changedEntries(before: GitMetadataSnapshot, after: GitMetadataSnapshot): GitMetadataEntry[] {
  const old = new Map(before.entries.map((entry) => [entry.path, entry]));
  return after.entries.filter((entry) => {
    const previous = old.get(entry.path);
    return !previous || previous.digest !== entry.digest || previous.kind !== entry.kind || (!previous.executable && entry.executable);
  });
}

export interface NeutraliseResult {
  neutralised: NeutralisedGitEntry[];
  /** Entries that should have been moved aside but could not be, with why. */
  failed: { path: string; reason: string; error: string }[];
}

/**
 * Moves aside every new or changed entry of `after` that would make git on the host run a
 * program (see hostRunReason), to a name git never reads.
 */
export async function neutraliseGitRisks(options: { workspaceDir: string; before: GitMetadataSnapshot; after: GitMetadataSnapshot }): Promise<NeutraliseResult> {
  const result: NeutraliseResult = { neutralised: [], failed: [] };
  for (const entry of changedEntries(options.before, options.after)) {
    const reason = await hostRunReason(entry, options.workspaceDir);
    if (!reason) continue;
    const at = new Date();
    try {
      const movedTo = await quarantine({ workspaceDir: options.workspaceDir, path: entry.path, stamp: stampOf(at) });
      // Gone already (the workstation removed it, or git renamed its lock): nothing left to run.
      if (movedTo === undefined) continue;
      result.neutralised.push({ path: entry.path, movedTo, reason, at: at.toISOString() });
    } catch (error) {
      result.failed.push({ path: entry.path, reason, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
}

/** A regular file's first `maxBytes` (truncated past them), read through safe-file; undefined for a link, a FIFO, a directory or a missing file. */
async function readUnder(workspaceDir: string, path: string, maxBytes: number): Promise<FileRead | undefined> {
  return readFileUnder({ root: workspaceDir, path, maxBytes, oversize: 'truncate' }).catch(() => undefined);
}

/**
 * Moves the entry at `path` (a file or a link, never followed) aside to
 * `<name>.nexora-quarantine-<stamp>` in its own directory, with a file's execute bits cleared
 * first through its handle; returns the new path, or undefined when it is gone. Its directory is
 * reached by descriptor from the workspace (safe-file), so a directory on the way swapped for a
 * link to elsewhere on the host is refused rather than written through.
 */
async function quarantine(options: { workspaceDir: string; path: string; stamp: string }): Promise<string | undefined> {
  const parent = dirname(options.path);
  const name = options.path.split('/').pop() ?? '';
  const dir = await SafeDirectory.open({ root: options.workspaceDir, path: parent === '.' ? '' : parent });
  if (!dir) return undefined;
  try {
    const stats = await dir.lstat(name);
    if (!stats) return undefined;
    if (stats.isFile()) {
      // openFile refuses what is no longer a regular file; the mode is changed on what was opened.
      const opened = await dir.openFile(name);
      if (opened) {
        try {
          if ((opened.stats.mode & 0o111) !== 0) await opened.handle.chmod(opened.stats.mode & 0o666);
        } finally {
          await opened.handle.close();
        }
      }
    }
    const movedName = `${name}${QUARANTINE_MARK}${options.stamp}`;
    if (!(await dir.rename(name, movedName))) return undefined;
    return parent === '.' ? movedName : `${parent}/${movedName}`;
  } finally {
    await dir.close();
  }
}

function stampOf(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${Math.random().toString(36).slice(2, 6)}`;
}
