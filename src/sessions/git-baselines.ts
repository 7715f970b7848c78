import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import { diffGitMetadata, gitMetadataSnapshotSchema, snapshotGitMetadata, type GitMetadataChange, type SnapshotOptions } from './git-metadata.js';

export interface GitChangesReport {
  changes: GitMetadataChange[];
  /** A limit stopped one of the two walks, so changes may be missing. */
  incomplete: boolean;
  /** When the baseline was taken. */
  since: string;
}

/**
 * Each session's picture of the workspace's git metadata as it was before the workstation could
 * write to it, kept in the Nexora home (mode 0600) so that a later process — a resumed session,
 * the end of `nexora run` — can report what the session changed.
 */
export class GitBaselines {
  private readonly dir: string;
  private readonly snapshotOptions: SnapshotOptions;
  /** Baselines still being taken by this process. */
  private readonly pending = new Map<string, Promise<string | undefined>>();

  constructor(options: { dir: string; snapshot?: SnapshotOptions }) {
    this.dir = options.dir;
    this.snapshotOptions = options.snapshot ?? {};
  }

  /**
   * Starts taking the baseline and returns at once: a big workspace takes a while to walk, and a
   * session start must not wait for it. What the session creates meanwhile is told apart by its
   * birth time; `changes()` waits for the walk. A failure is kept for the report, never thrown.
   */
  save(sessionId: SessionId, workspaceDir: string, options: { startedAt?: Date } = {}): Promise<string | undefined> {
    const startedAt = options.startedAt ?? new Date();
    const pending = (async (): Promise<string | undefined> => {
      try {
        const snapshot = await snapshotGitMetadata(workspaceDir, { ...this.snapshotOptions, createdBefore: startedAt });
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        await writeFile(this.file(sessionId), JSON.stringify(snapshot), { mode: 0o600 });
        return undefined;
      } catch (error) {
        return `could not record the workspace's git metadata: ${describeError(error)}`;
      } finally {
        this.pending.delete(sessionId);
      }
    })();
    this.pending.set(sessionId, pending);
    return pending;
  }

  async has(sessionId: SessionId): Promise<boolean> {
    if (this.pending.has(sessionId)) return true;
    return (await this.load(sessionId)) !== undefined;
  }

  /** What changed since the baseline; undefined when the session has none. */
  async changes(sessionId: SessionId, workspaceDir: string, options: { signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    await this.pending.get(sessionId);
    const before = await this.load(sessionId);
    if (!before) return undefined;
    const after = await snapshotGitMetadata(workspaceDir, { ...this.snapshotOptions, ...options });
    return { changes: diffGitMetadata(before, after), incomplete: before.incomplete || after.incomplete, since: before.takenAt };
  }

  async remove(sessionId: SessionId): Promise<void> {
    await rm(this.file(sessionId), { force: true });
  }

  private async load(sessionId: SessionId): Promise<ReturnType<typeof gitMetadataSnapshotSchema.parse> | undefined> {
    const text = await readFile(this.file(sessionId), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const parsed = gitMetadataSnapshotSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private file(sessionId: SessionId): string {
    return join(this.dir, `${sessionId}.json`);
  }
}
