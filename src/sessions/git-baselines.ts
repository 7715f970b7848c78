import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import type { SessionId } from '../store/index.js';
import { z } from 'zod';
import {
  diffGitMetadata,
  gitMetadataSnapshotSchema,
  snapshotGitMetadata,
  type GitMetadataChange,
  type GitMetadataSnapshot,
  type NeutralisedGitEntry,
  type SnapshotOptions,
} from './git-metadata.js';
import { neutraliseGitRisks, type NeutraliseResult } from './git-neutralise.js';

export interface GitChangesReport {
  changes: GitMetadataChange[];
  /** What the guard moved aside during the session and at its stop, so that git on the host cannot run it. */
  neutralised: NeutralisedGitEntry[];
  /** What should have been moved aside but could not be: look at these by hand. */
  failed: NeutraliseResult['failed'];
  /** A limit stopped one of the two walks, so changes may be missing. */
  incomplete: boolean;
  /** When the baseline was taken. */
  since: string;
  /** When the final check ran (the session's stop); absent while the session runs. */
  settledAt?: string;
}

const settledReportSchema = z.strictObject({
  changes: z.array(z.strictObject({ path: z.string(), change: z.enum(['added', 'removed', 'modified', 'made-executable']), risk: z.string(), runsOnHost: z.boolean() })),
  neutralised: z.array(z.strictObject({ path: z.string(), movedTo: z.string(), reason: z.string(), at: z.string() })),
  failed: z.array(z.strictObject({ path: z.string(), reason: z.string(), error: z.string() })),
  incomplete: z.boolean(),
  since: z.string(),
  settledAt: z.string().optional(),
});

/**
 * Each session's picture of the workspace's git metadata as it was before the workstation could
 * write to it, kept in the Nexora home (mode 0600) so that a later process — a server restarted
 * under a live session, a reconciliation — still guards it and runs its final check.
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

  /** The session's baseline, once taken; undefined when it has none. */
  async baseline(sessionId: SessionId): Promise<GitMetadataSnapshot | undefined> {
    await this.pending.get(sessionId);
    return this.load(sessionId);
  }

  /** Whether the session's final check has run (after which its workspace is the user's again). */
  async settled(sessionId: SessionId): Promise<boolean> {
    return (await this.loadSettled(sessionId)) !== undefined;
  }

  /**
   * What changed since the baseline; undefined when the session has none. After the final check,
   * that check's report: the workspace is then the user's, and what they change is not the session's.
   */
  async changes(sessionId: SessionId, workspaceDir: string, options: { signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    const settled = await this.loadSettled(sessionId);
    if (settled) return settled;
    const before = await this.baseline(sessionId);
    if (!before) return undefined;
    const after = await snapshotGitMetadata(workspaceDir, { ...this.snapshotOptions, ...options });
    return { changes: diffGitMetadata(before, after), neutralised: [], failed: [], incomplete: before.incomplete || after.incomplete, since: before.takenAt };
  }

  /**
   * The final check, once the workstation can no longer write: moves aside what would run on the
   * host, reports the rest, and keeps the report. Runs once per session (a second call returns
   * the kept report), so a later stop or reconciliation never judges the user's own edits.
   * Undefined when the session has no baseline.
   */
  async settle(sessionId: SessionId, workspaceDir: string, options: { neutralisedBefore?: readonly NeutralisedGitEntry[]; signal?: AbortSignal } = {}): Promise<GitChangesReport | undefined> {
    const kept = await this.loadSettled(sessionId);
    if (kept) return kept;
    const before = await this.baseline(sessionId);
    if (!before) return undefined;
    const snapshotOptions = { ...this.snapshotOptions, ...(options.signal ? { signal: options.signal } : {}) };
    const found = await snapshotGitMetadata(workspaceDir, snapshotOptions);
    const result = await neutraliseGitRisks({ workspaceDir, before, after: found });
    const after = result.neutralised.length > 0 ? await snapshotGitMetadata(workspaceDir, snapshotOptions) : found;
    const report: GitChangesReport = {
      changes: diffGitMetadata(before, after),
      neutralised: [...(options.neutralisedBefore ?? []), ...result.neutralised],
      failed: result.failed,
      incomplete: before.incomplete || after.incomplete,
      since: before.takenAt,
      settledAt: new Date().toISOString(),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(this.settledFile(sessionId), JSON.stringify(report), { mode: 0o600 });
    return report;
  }

  async remove(sessionId: SessionId): Promise<void> {
    await rm(this.file(sessionId), { force: true });
    await rm(this.settledFile(sessionId), { force: true });
  }

  private async load(sessionId: SessionId): Promise<GitMetadataSnapshot | undefined> {
    return readJson(this.file(sessionId), gitMetadataSnapshotSchema);
  }

  private async loadSettled(sessionId: SessionId): Promise<GitChangesReport | undefined> {
    return readJson(this.settledFile(sessionId), settledReportSchema);
  }

  private file(sessionId: SessionId): string {
    return join(this.dir, `${sessionId}.json`);
  }

  private settledFile(sessionId: SessionId): string {
    return join(this.dir, `${sessionId}.settled.json`);
  }
}

/** A file in the Nexora home, parsed; undefined when missing or not what it should be. */
async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
