import { z } from 'zod';

export const sessionStatuses = ['starting', 'active', 'stopping', 'ended', 'crashed'] as const;
export const sessionStatusSchema = z.enum(sessionStatuses);

/** starting → active → stopping → ended, and crashed from any state that is not over. */
export type SessionStatus = (typeof sessionStatuses)[number];

const allowed: Record<SessionStatus, readonly SessionStatus[]> = {
  starting: ['active', 'stopping', 'crashed'],
  active: ['stopping', 'crashed'],
  stopping: ['ended', 'crashed'],
  ended: [],
  crashed: [],
};

/** The states a session may move to from `from`. */
export function nextStatuses(from: SessionStatus): readonly SessionStatus[] {
  return allowed[from];
}

/** The states from which a session may move to `to`. */
export function previousStatuses(to: SessionStatus): SessionStatus[] {
  return sessionStatuses.filter((from) => allowed[from].includes(to));
}

/** Whether the session is over (it holds no ports and has an end time). */
export function isFinalStatus(status: SessionStatus): boolean {
  return allowed[status].length === 0;
}
