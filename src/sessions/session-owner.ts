import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ContainerOwner } from '../workstation/labels.js';

/**
 * A process's identity that survives pid reuse: its pid plus its start time (Linux
 * /proc/<pid>/stat field 22). A different process that later gets the same pid has a
 * different start time.
 */
export function processInstance(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: fields are counted after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19];
    return startTime ? `${pid}-${startTime}` : undefined;
  } catch {
    return undefined;
  }
}

// Computed once: the fallback instance (no /proc) includes a time, so building it again
// would never match the owner recorded at start-up.
let self: ContainerOwner | undefined;

/** This process as an owner of sessions and containers. */
export function thisProcessOwner(): ContainerOwner {
  self ??= { host: hostname(), pid: process.pid, instance: processInstance(process.pid) ?? `${process.pid}-${Date.now()}` };
  return self;
}

/**
 * Whether the process that owns a session still runs. An owner on another host cannot be
 * checked from here: it counts as alive, and the caller falls back to the session's age.
 */
export function isOwnerAlive(owner: ContainerOwner): boolean | 'unknown' {
  if (owner.host !== hostname()) return 'unknown';
  if (owner.pid === process.pid) return owner.instance === thisProcessOwner().instance;
  const instance = processInstance(owner.pid);
  if (instance !== undefined) return instance === owner.instance;
  if (process.platform === 'linux') return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
