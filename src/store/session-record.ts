import type { SessionId } from './session-id.js';
import type { SessionStatus } from './session-status.js';

export interface SessionRecord {
  id: SessionId;
  userId: string;
  model: string;
  provider: string;
  status: SessionStatus;
  statusReason: string | null;
  workspaceDir: string | null;
  containerId: string | null;
  vncPort: number | null;
  cdpPort: number | null;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
}

/** Tokens and money a session's model calls have used (the sum over its steps). */
export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  usd: number;
}

export interface CreateSessionInput {
  id: SessionId;
  userId: string;
  model: string;
  provider: string;
  workspaceDir?: string | null;
}

export interface ListSessionsFilter {
  status?: SessionStatus;
  statuses?: readonly SessionStatus[];
  userId?: string;
  limit?: number;
}

export interface SessionRow {
  id: string;
  user_id: string;
  model: string;
  provider: string;
  status: SessionStatus;
  status_reason: string | null;
  workspace_dir: string | null;
  container_id: string | null;
  vnc_port: number | null;
  cdp_port: number | null;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

export const sessionColumns = 'id, user_id, model, provider, status, status_reason, workspace_dir, container_id, vnc_port, cdp_port, created_at, updated_at, ended_at';

/** Which process is working on a session (starting or stopping it), so a later one can tell a dead owner. */
export interface SessionOwner {
  host: string;
  pid: number;
  /** A random id per Nexora process, so a reused pid is not mistaken for the owner. */
  instance: string;
}

/** The session manager's own columns (migration 002) beside the session record. */
export interface SessionExtras {
  id: SessionId;
  owner: SessionOwner | undefined;
  poolKey: string | null;
  poolReadyAt: Date | null;
  poolExpiresAt: Date | null;
  /** Set while the session is parked (workstation paused): when the sweep stops it (migration 004). */
  keptUntil: Date | null;
}

export interface ExtrasRow {
  id: string;
  owner_host: string | null;
  owner_pid: number | null;
  owner_instance: string | null;
  pool_key: string | null;
  pool_ready_at: Date | null;
  pool_expires_at: Date | null;
  kept_until: Date | null;
}

export const extrasColumns = 'id, owner_host, owner_pid, owner_instance, pool_key, pool_ready_at, pool_expires_at, kept_until';

export function toExtras(row: ExtrasRow): SessionExtras {
  return {
    id: row.id as SessionId,
    owner:
      row.owner_host && row.owner_pid && row.owner_instance
        ? { host: row.owner_host, pid: row.owner_pid, instance: row.owner_instance }
        : undefined,
    poolKey: row.pool_key,
    poolReadyAt: row.pool_ready_at ? new Date(row.pool_ready_at) : null,
    poolExpiresAt: row.pool_expires_at ? new Date(row.pool_expires_at) : null,
    keptUntil: row.kept_until ? new Date(row.kept_until) : null,
  };
}

export const usageColumns = 'input_tokens, output_tokens, cached_input_tokens, cost_usd';

export interface UsageRow {
  input_tokens: string | number;
  output_tokens: string | number;
  cached_input_tokens: string | number;
  cost_usd: string | number;
}

// bigint and numeric come back as strings from node-postgres.
export function toUsage(row: UsageRow): SessionUsage {
  return {
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    usd: Number(row.cost_usd),
  };
}

export function toRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id as SessionId,
    userId: row.user_id,
    model: row.model,
    provider: row.provider,
    status: row.status,
    statusReason: row.status_reason,
    workspaceDir: row.workspace_dir,
    containerId: row.container_id,
    vncPort: row.vnc_port,
    cdpPort: row.cdp_port,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    endedAt: row.ended_at ? new Date(row.ended_at) : null,
  };
}
