import { NexoraError } from '../errors.js';
import type { Db, Queryable } from './db.js';
import { sqlState, sqlStates } from './sql-error.js';
import { releasePorts } from './port-allocator.js';
import type { SessionId } from './session-id.js';
import { isFinalStatus, nextStatuses, previousStatuses, sessionStatuses, type SessionStatus } from './session-status.js';

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

interface SessionRow {
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

const columns = 'id, user_id, model, provider, status, status_reason, workspace_dir, container_id, vnc_port, cdp_port, created_at, updated_at, ended_at';

/**
 * Sessions and their state machine. Every change of status is recorded as a
 * `session-status-change` event in the same transaction, and a session that ends or crashes
 * gives back its ports and forgets its VNC password in that transaction too.
 */
export class SessionStore {
  constructor(private readonly db: Db) {}

  async create(input: CreateSessionInput): Promise<SessionRecord> {
    const created = this.db.transaction(async (tx) => {
      const rows = await tx.query<SessionRow>(
        `INSERT INTO sessions (id, user_id, model, provider, workspace_dir) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
        [input.id, input.userId, input.model, input.provider, input.workspaceDir ?? null],
      );
      await recordEvent(tx, input.id, 'session-create', { userId: input.userId, model: input.model, provider: input.provider, workspaceDir: input.workspaceDir ?? null });
      return toRecord(single(rows));
    });
    return created.catch((error: unknown) => {
      if (sqlState(error) === sqlStates.uniqueViolation) {
        throw new NexoraError('invalid-argument', `A session ${input.id} already exists: create sessions with a new id (newSessionId()).`, { cause: error });
      }
      if (sqlState(error) === sqlStates.checkViolation) {
        throw new NexoraError('invalid-argument', `"${input.id.slice(0, 40)}" is not a valid session id: use letters, digits, "_" and "-" (newSessionId() makes one).`, { cause: error });
      }
      throw error;
    });
  }

  async get(id: SessionId, tx: Queryable = this.db): Promise<SessionRecord> {
    const rows = await tx.query<SessionRow>(`SELECT ${columns} FROM sessions WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) throw notFound(id);
    return toRecord(row);
  }

  /** Like get, but undefined for an unknown id. */
  async find(id: SessionId): Promise<SessionRecord | undefined> {
    const rows = await this.db.query<SessionRow>(`SELECT ${columns} FROM sessions WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Sessions, newest first. */
  async list(filter: ListSessionsFilter = {}): Promise<SessionRecord[]> {
    const statuses = [...(filter.statuses ?? []), ...(filter.status ? [filter.status] : [])];
    for (const status of statuses) {
      if (!sessionStatuses.includes(status)) {
        throw new NexoraError('invalid-argument', `"${status}" is not a session status: use one of ${sessionStatuses.join(', ')}.`);
      }
    }
    const rows = await this.db.query<SessionRow>(
      `SELECT ${columns} FROM sessions
        WHERE ($1::text[] IS NULL OR status = ANY($1::text[]))
          AND ($2::text IS NULL OR user_id = $2)
        ORDER BY created_at DESC, id
        LIMIT $3`,
      [statuses.length > 0 ? statuses : null, filter.userId ?? null, filter.limit ?? 1000],
    );
    return rows.map(toRecord);
  }

  /**
   * Moves a session to `to` if the state machine allows it from its current state; otherwise
   * throws 'session-invalid-transition' and changes nothing.
   */
  async transition(id: SessionId, to: SessionStatus, options: { reason?: string } = {}): Promise<SessionRecord> {
    return this.db.transaction(async (tx) => {
      const from = previousStatuses(to);
      const before = await tx.query<{ status: SessionStatus }>('SELECT status FROM sessions WHERE id = $1 FOR UPDATE', [id]);
      const current = before[0]?.status;
      if (!current) throw notFound(id);
      if (!from.includes(current)) {
        const next = nextStatuses(current);
        throw new NexoraError(
          'session-invalid-transition',
          `Session ${id} is ${current} and cannot become ${to}${next.length > 0 ? `: from ${current} it can only become ${next.join(' or ')}` : `: it is already over`}.`,
        );
      }
      const final = isFinalStatus(to);
      const rows = await tx.query<SessionRow>(
        `UPDATE sessions
            SET status = $2, status_reason = $3, updated_at = now(),
                ended_at = CASE WHEN $4::boolean THEN now() ELSE NULL END,
                vnc_password_sealed = CASE WHEN $4::boolean THEN NULL ELSE vnc_password_sealed END
          WHERE id = $1
          RETURNING ${columns}`,
        [id, to, options.reason ?? null, final],
      );
      if (final) await releasePorts(tx, id);
      await recordEvent(tx, id, 'session-status-change', { from: current, to, reason: options.reason ?? null });
      return toRecord(single(rows));
    });
  }

  /** Adds one step's usage to the session's totals and returns the new totals. */
  async addUsage(id: SessionId, usage: SessionUsage, tx: Queryable = this.db): Promise<SessionUsage> {
    for (const [name, value] of Object.entries(usage)) {
      if (!Number.isFinite(value) || value < 0) throw new NexoraError('invalid-argument', `usage.${name} must be a non-negative number; got ${value}`);
    }
    const rows = await tx.query<UsageRow>(
      `UPDATE sessions SET input_tokens = input_tokens + $2, output_tokens = output_tokens + $3,
         cached_input_tokens = cached_input_tokens + $4, cost_usd = cost_usd + $5, updated_at = now()
       WHERE id = $1 RETURNING ${usageColumns}`,
      [id, Math.round(usage.inputTokens), Math.round(usage.outputTokens), Math.round(usage.cachedInputTokens), usage.usd],
    );
    const row = rows[0];
    if (!row) throw new NexoraError('session-not-found', `No session ${id}: \`nexora session list --all\` shows the sessions there are.`);
    return toUsage(row);
  }

  /** The session's usage totals. */
  async usage(id: SessionId): Promise<SessionUsage> {
    const row = (await this.db.query<UsageRow>(`SELECT ${usageColumns} FROM sessions WHERE id = $1`, [id]))[0];
    if (!row) throw new NexoraError('session-not-found', `No session ${id}: \`nexora session list --all\` shows the sessions there are.`);
    return toUsage(row);
  }

  /** Records the container and the ports it publishes. */
  async setContainer(id: SessionId, container: { containerId: string; vncPort: number; cdpPort: number }, tx: Queryable = this.db): Promise<SessionRecord> {
    const rows = await tx.query<SessionRow>(
      `UPDATE sessions SET container_id = $2, vnc_port = $3, cdp_port = $4, updated_at = now() WHERE id = $1 RETURNING ${columns}`,
      [id, container.containerId, container.vncPort, container.cdpPort],
    );
    if (!rows[0]) throw notFound(id);
    return toRecord(rows[0]);
  }

  /**
   * Stores the session's VNC password, already sealed with the master key (secrets/
   * `sealText`); the store never sees it in the clear. Cleared when the session is over.
   */
  async setVncPassword(id: SessionId, sealed: string, tx: Queryable = this.db): Promise<void> {
    const rows = await tx.query('UPDATE sessions SET vnc_password_sealed = $2, updated_at = now() WHERE id = $1 RETURNING id', [id, sealed]);
    if (!rows[0]) throw notFound(id);
  }

  /** The sealed VNC password, or undefined when none is set (open it with secrets/ `openText`). */
  async getVncPassword(id: SessionId): Promise<string | undefined> {
    const rows = await this.db.query<{ vnc_password_sealed: string | null }>('SELECT vnc_password_sealed FROM sessions WHERE id = $1', [id]);
    if (!rows[0]) throw notFound(id);
    return rows[0].vnc_password_sealed ?? undefined;
  }
}

/** Appends a lifecycle event inside the caller's transaction. */
async function recordEvent(tx: Queryable, sessionId: string, kind: string, payload: Record<string, unknown>): Promise<void> {
  await tx.query('INSERT INTO events (session_id, kind, payload) VALUES ($1, $2, $3::jsonb)', [sessionId, kind, JSON.stringify(payload)]);
}

function notFound(id: string): NexoraError {
  return new NexoraError('session-not-found', `No session ${id}: list sessions with \`nexora session list\`.`);
}

function single<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new NexoraError('database-failed', 'The database returned no row where one was expected.');
  return row;
}

const usageColumns = 'input_tokens, output_tokens, cached_input_tokens, cost_usd';

interface UsageRow {
  input_tokens: string | number;
  output_tokens: string | number;
  cached_input_tokens: string | number;
  cost_usd: string | number;
}

// bigint and numeric come back as strings from node-postgres.
function toUsage(row: UsageRow): SessionUsage {
  return {
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    usd: Number(row.cost_usd),
  };
}

function toRecord(row: SessionRow): SessionRecord {
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
