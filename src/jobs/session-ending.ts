import { keepUntil } from '../sessions/keep-idle.js';
import type { RunFlags } from './run-flags.js';

/** What becomes of a run's session when the run ends. */
export type SessionEnding =
  | { kind: 'stop' }
  | { kind: 'keep' }
  | { kind: 'park'; until: Date }
  /** The session was lent to the run (`--session`): it stays as its owner left it. */
  | { kind: 'lent' };

/**
 * The one rule for a run's end, whatever its outcome (completed, failed, max steps, budget,
 * interrupted): `--rm` stops and removes the workstation, `--keep` leaves it running, and
 * otherwise it is paused and kept for `--continue` for `idleMs`, then the server removes it.
 */
export function sessionEnding(options: { claimed: boolean; flags: Pick<RunFlags, 'keep' | 'rm'>; outcome: string; idleMs: number; now?: Date }): SessionEnding {
  if (options.claimed) return { kind: 'lent' };
  if (options.flags.rm === true) return { kind: 'stop' };
  if (options.flags.keep === true) return { kind: 'keep' };
  return { kind: 'park', until: keepUntil(options.idleMs, options.now) };
}
