import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { NexoraError, describeError } from '../errors.js';
import { helperCollision } from './helper-users.js';

export interface NumericUser {
  uid: number;
  gid: number;
}

/**
 * The user a workstation runs as: the owner of its workspace directory, so that files the
 * agent writes in /workspace belong to the same user on the host. A root-owned workspace is
 * refused rather than run as root.
 */
export async function workspaceOwner(workspaceDir: string): Promise<NumericUser> {
  if (!isAbsolute(workspaceDir)) {
    throw new NexoraError('invalid-argument', `The workspace must be an absolute path, got "${workspaceDir}".`);
  }
  let info;
  try {
    info = await stat(workspaceDir);
  } catch (error) {
    throw new NexoraError(
      'invalid-argument',
      `The workspace ${workspaceDir} cannot be read (${describeError(error)}). Create it or pass an existing directory with --workspace.`,
      { cause: error },
    );
  }
  if (!info.isDirectory()) {
    throw new NexoraError('invalid-argument', `The workspace ${workspaceDir} is not a directory. Pass a directory with --workspace.`);
  }
  if (info.uid === 0) {
    throw new NexoraError(
      'invalid-argument',
      `The workspace ${workspaceDir} is owned by root, and workstations never run as root. Give it to a normal user (chown -R 1000:1000 ${workspaceDir}) or choose the user explicitly (--user UID:GID).`,
    );
  }
  const owner = { uid: info.uid, gid: info.gid };
  const collision = helperCollision(owner);
  if (collision) {
    throw new NexoraError('invalid-argument', `The workspace ${workspaceDir} is owned by ${owner.uid}:${owner.gid}, but ${collision}. Give the workspace to another user or choose one explicitly (--user UID:GID).`);
  }
  return owner;
}

/** Parses `UID:GID` (or `UID`, whose group is the same number). */
export function parseNumericUser(text: string): NumericUser {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text.trim());
  if (!match) throw new NexoraError('invalid-argument', `"${text}" is not a numeric user: use UID:GID, e.g. 1000:1000.`);
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? uid : Number(match[2]);
  if (uid === 0) throw new NexoraError('invalid-argument', 'Workstations never run as root (uid 0): choose a normal user, e.g. 1000:1000.');
  const collision = helperCollision({ uid, gid });
  if (collision) throw new NexoraError('invalid-argument', `${uid}:${gid} cannot run a workstation: ${collision}. Choose another user.`);
  return { uid, gid };
}
