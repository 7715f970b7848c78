import { watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { snapshotGitMetadata, type GitMetadataSnapshot, type NeutralisedGitEntry, type SnapshotOptions } from './git-metadata.js';
import { neutraliseGitRisks, type NeutraliseResult } from './git-neutralise.js';

export interface GitGuardOptions {
  workspaceDir: string;
  /** The picture taken at the session's start: what was there then is the user's. */
  baseline: GitMetadataSnapshot;
  /** Called after each check that moved something aside (or failed to). */
  onNeutralised: (result: NeutraliseResult) => void;
  /** Slowest interval between walks of the whole tree for new `.git`s (default 2 s; slower when a walk is slow). */
  rescanIntervalMs?: number;
  /** Directories watched at most (each holds an inotify watch). */
  maxWatches?: number;
  snapshot?: SnapshotOptions;
}

/**
 * Keeps one live session's workspace from gaining git metadata that git on the host would run.
 * Each git directory (and its hooks, its submodules' and worktrees' directories) is watched, so
 * a hook, a `commondir` or a risky config is moved aside within milliseconds of being written;
 * a `.git` that appears anywhere else is found by the workspace root's watch and by a walk of
 * the tree every few seconds (bounded by the snapshot's limits). The final word is the check at
 * the session's stop, after its workstation is gone (GitBaselines.settle).
 */
export class GitGuard {
  /** Everything moved aside so far, oldest first. */
  readonly neutralised: NeutralisedGitEntry[] = [];
  private readonly options: GitGuardOptions;
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly dirtyGitDirs = new Set<string>();
  private fullScanWanted = false;
  private running: Promise<void> | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastFullScanMs = 0;
  /** Git directories found so far (and in the baseline): walked on their own when a whole walk hits its limits. */
  private readonly knownGitDirs = new Set<string>();

  constructor(options: GitGuardOptions) {
    this.options = options;
    for (const entry of options.baseline.entries) if (entry.kind === 'dir' && options.baseline.gitPaths.includes(entry.path)) this.knownGitDirs.add(entry.path);
  }

  /** Starts watching and runs a first full check. */
  start(): void {
    this.watch(this.options.workspaceDir, undefined);
    this.fullScanWanted = true;
    this.flush();
  }

  /** Stops watching; resolves when a check under way has finished (so nothing moves behind the stop's own check). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.running?.catch(() => undefined);
  }

  /** Watches one directory; `gitDir` is the git directory it belongs to (undefined: the tree outside git). */
  private watch(dir: string, gitDir: string | undefined): void {
    if (this.closed || this.watchers.has(dir) || this.watchers.size >= (this.options.maxWatches ?? 512)) return;
    try {
      const watcher = watch(dir, { persistent: false }, () => this.changed(gitDir));
      watcher.on('error', () => {
        watcher.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, watcher);
    } catch {
      // Gone or unreadable: the next walk looks again.
    }
  }

  private changed(gitDir: string | undefined): void {
    if (gitDir === undefined) this.fullScanWanted = true;
    else this.dirtyGitDirs.add(gitDir);
    // A few milliseconds gather the burst of events one `git init` or `cp -r` makes.
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, 5);
  }

  private flush(): void {
    if (this.closed || this.running) return;
    const full = this.fullScanWanted;
    const gitDirs = [...this.dirtyGitDirs];
    this.fullScanWanted = false;
    this.dirtyGitDirs.clear();
    if (!full && gitDirs.length === 0) return;
    this.running = this.check(full ? undefined : gitDirs)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.fullScanWanted || this.dirtyGitDirs.size > 0) this.flush();
      });
  }

  /** One check: walk (the whole tree, or only the named git directories), move aside what would run, watch what is new. */
  private async check(gitDirs: string[] | undefined): Promise<void> {
    const begun = Date.now();
    const { workspaceDir, baseline } = this.options;
    let after = await snapshotGitMetadata(workspaceDir, { ...this.options.snapshot, ...(gitDirs ? { gitDirs } : {}) });
    if (this.closed) return;
    this.watchGitDirs(after, gitDirs);
    if (!gitDirs && after.incomplete && this.knownGitDirs.size > 0) {
      // A tree too big to walk whole still has every git directory seen so far checked.
      const known = await snapshotGitMetadata(workspaceDir, { ...this.options.snapshot, gitDirs: [...this.knownGitDirs] });
      after = { ...after, entries: [...after.entries, ...known.entries] };
    }
    const result = await neutraliseGitRisks({ workspaceDir, before: baseline, after });
    this.neutralised.push(...result.neutralised);
    if (result.neutralised.length > 0 || result.failed.length > 0) this.options.onNeutralised(result);
    if (!gitDirs) {
      this.lastFullScanMs = Date.now() - begun;
      this.scheduleRescan();
    }
  }

  private watchGitDirs(snapshot: GitMetadataSnapshot, gitDirs: string[] | undefined): void {
    const { workspaceDir } = this.options;
    const kinds = new Map(snapshot.entries.map((entry) => [entry.path, entry.kind]));
    for (const gitPath of snapshot.gitPaths) if (kinds.get(gitPath) === 'dir') this.knownGitDirs.add(gitPath);
    for (const gitPath of snapshot.gitPaths) {
      const dir = join(workspaceDir, gitPath);
      // The directory holding a `.git` sees it replaced; the git directory sees commondir, config, hooks/ appear;
      // a `.git` file rewritten in place is judged by a whole walk (it is not a directory to walk alone).
      this.watch(dirname(dir), undefined);
      this.watch(dir, kinds.get(gitPath) === 'dir' ? gitPath : undefined);
    }
    const roots = gitDirs ?? snapshot.gitPaths;
    for (const entry of snapshot.entries) {
      if (entry.kind !== 'dir') continue;
      const owner = roots.find((root) => entry.path.startsWith(`${root}/`));
      if (owner) this.watch(join(workspaceDir, entry.path), owner);
    }
  }

  private scheduleRescan(): void {
    if (this.closed) return;
    // A tree that takes long to walk is walked less often: at most a tenth of the time.
    const delay = Math.max(this.options.rescanIntervalMs ?? 2000, this.lastFullScanMs * 10);
    this.rescanTimer = setTimeout(() => {
      this.fullScanWanted = true;
      this.flush();
    }, delay);
    this.rescanTimer.unref();
  }
}
