import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import type { EventStore, SessionId } from '../store/index.js';
import { copyWorkspace } from './workspace-copy.js';

/** Where a session's workspace copy is kept when the user asked for one (`nexora run --snapshot`). */
export function snapshotDir(sessionId: SessionId): string {
  return join(nexoraPaths().snapshots, sessionId);
}

/** Keeps a copy of the workspace for replays; a copy that fails only means a replay uses the current one. */
export async function takeSnapshot(options: { events: EventStore; sessionId: SessionId; workspace: string; note: (line: string) => void }): Promise<void> {
  const dir = snapshotDir(options.sessionId);
  if (existsSync(dir)) return;
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    const copied = await copyWorkspace({ from: options.workspace, to: dir });
    await options.events.record({ sessionId: options.sessionId, kind: 'workspace-snapshot', payload: { dir, ...copied } });
    options.note(`workspace copied for replays (${copied.files} files, ${Math.ceil(copied.bytes / 1024)} KiB)`);
  } catch (error) {
    options.note(`no workspace copy for replays: ${describeError(error)}`);
  }
}
