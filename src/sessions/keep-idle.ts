import { NexoraError } from '../errors.js';

/** How long a parked session is kept when nothing configures it: 15 minutes. */
export const defaultKeepIdleMs = 15 * 60_000;

/**
 * How long a session whose run or client ended stays paused for a resume before it is stopped:
 * `NEXORA_KEEP_IDLE_SECONDS` when set (tests use a few seconds), else the config's
 * `agent.keepIdleMinutes`, else 15 minutes. The one place this rule is read.
 */
export function keepIdleMs(options: { env?: NodeJS.ProcessEnv; configMinutes?: number | undefined } = {}): number {
  const raw = (options.env ?? process.env).NEXORA_KEEP_IDLE_SECONDS;
  if (raw !== undefined && raw.trim() !== '') {
    const seconds = Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 7 * 24 * 3600) {
      throw new NexoraError('invalid-config', `NEXORA_KEEP_IDLE_SECONDS is "${raw.slice(0, 40)}": set it to a number of seconds between 1 and 604800 (7 days), e.g. 900, or unset it.`);
    }
    return Math.round(seconds * 1000);
  }
  return options.configMinutes !== undefined ? Math.round(options.configMinutes * 60_000) : defaultKeepIdleMs;
}

/** When a session parked now, for `keepIdleMs`, is stopped. */
export function keepUntil(idleMs: number, now: Date = new Date()): Date {
  return new Date(now.getTime() + idleMs);
}
