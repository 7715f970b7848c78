import { NexoraError } from '../errors.js';
import type { Db, Queryable } from './db.js';
import { sqlState, sqlStates } from './sql-error.js';
import { releasePorts } from './port-allocator.js';
import type { SessionId } from './session-id.js';
import { isFinalStatus, nextStatuses, previousStatuses, sessionStatuses, type SessionStatus } from './session-status.js';
import {
  extrasColumns,
  sessionColumns,
  toExtras,
  toRecord,
  toUsage,
  usageColumns,
  type CreateSessionInput,
  type ExtrasRow,
  type ListSessionsFilter,
  type SessionExtras,
  type SessionOwner,
  type SessionRecord,
  type SessionRow,
  type SessionUsage,
  type UsageRow,
} from './session-record.js';
import { deleteEventsOf, insertEvent, type EventStoreOptions } from './event-store.js';
import { jsonbSafe } from './jsonb-safe.js';
import { deleteVncSessionsOf } from './vnc-session-store.js';

export type { CreateSessionInput, ListSessionsFilter, SessionExtras, SessionOwner, SessionRecord, SessionUsage } from './session-record.js';

/**
 * Sessions and their state machine. Every change of status is recorded as a
 * `session-status-change` event in the same transaction, and a session that ends or crashes
 * gives back its ports and forgets its VNC password in that transaction too.
 */
export class SessionStore {
  /** `redact` as for the event store: applied to the lifecycle events this store records. */
  constructor(
    private readonly db: Db,
    private readonly options: EventStoreOptions = {},
  ) {}

  async create(input: CreateSessionInput): Promise<SessionRecord> {
    const created = this.db.transaction(async (tx) => {
      const rows = await tx.query<SessionRow>(
        `INSERT INTO sessions (id, user_id, model, provider, workspace_dir) VALUES ($1, $2, $3, $4, $5) RETURNING ${sessionColumns}`,
        [input.id, input.userId, input.model, input.provider, input.workspaceDir ?? null],
      );
      await this.recordEvent(tx, input.id, 'session-create', { userId: input.userId, model: input.model, provider: input.provider, workspaceDir: input.workspaceDir ?? null });
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

  /** Appends a lifecycle event inside the caller's transaction. */
  private async recordEvent(tx: Queryable, sessionId: string, kind: string, payload: Record<string, unknown>): Promise<void> {
    await insertEvent(tx, { sessionId: sessionId as SessionId, kind, payload }, this.options);
  }

  async get(id: SessionId, tx: Queryable = this.db): Promise<SessionRecord> {
    const rows = await tx.query<SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) throw notFound(id);
    return toRecord(row);
  }

  /** Like get, but undefined for an unknown id. */
  async find(id: SessionId): Promise<SessionRecord | undefined> {
    const rows = await this.db.query<SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = $1`, [id]);
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
      `SELECT ${sessionColumns} FROM sessions
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
      // A reason can quote a workstation's output: stored as its event is (redacted, NUL-safe).
      const reason = options.reason === undefined ? null : String(jsonbSafe(this.options.redact ? this.options.redact(options.reason) : options.reason));
      const rows = await tx.query<SessionRow>(
        `UPDATE sessions
            SET status = $2, status_reason = $3, updated_at = now(),
                ended_at = CASE WHEN $4::boolean THEN now() ELSE NULL END,
                vnc_password_sealed = CASE WHEN $4::boolean THEN NULL ELSE vnc_password_sealed END
          WHERE id = $1
          RETURNING ${sessionColumns}`,
        [id, to, reason, final],
      );
      if (final) await releasePorts(tx, id);
      await this.recordEvent(tx, id, 'session-status-change', { from: current, to, reason });
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
      `UPDATE sessions SET container_id = $2, vnc_port = $3, cdp_port = $4, updated_at = now() WHERE id = $1 RETURNING ${sessionColumns}`,
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
  /** Deletes a session with its history (events, VNC connections) and its ports, in one transaction. */
  async remove(id: SessionId): Promise<void> {
    await this.db.transaction(async (tx) => {
      await deleteEventsOf(tx, id);
      await deleteVncSessionsOf(tx, id);
      await releasePorts(tx, id);
      await tx.query('DELETE FROM sessions WHERE id = $1', [id]);
    });
  }

  /** Marks which process is working on a session (undefined: nobody). */
  async setOwner(id: SessionId, owner: SessionOwner | undefined): Promise<void> {
    await this.db.query('UPDATE sessions SET owner_host = $2, owner_pid = $3, owner_instance = $4 WHERE id = $1', [
      id,
      owner?.host ?? null,
      owner?.pid ?? null,
      owner?.instance ?? null,
    ]);
  }

  /** A session's owner and warm-pool columns; undefined for an unknown id. */
  async extras(id: SessionId): Promise<SessionExtras | undefined> {
    const rows = await this.db.query<ExtrasRow>(`SELECT ${extrasColumns} FROM sessions WHERE id = $1`, [id]);
    return rows[0] ? toExtras(rows[0]) : undefined;
  }

  /** The extras of every session that is not over, by id. */
  async liveExtras(): Promise<Map<string, SessionExtras>> {
    const rows = await this.db.query<ExtrasRow>(`SELECT ${extrasColumns} FROM sessions WHERE status IN ('starting', 'active', 'stopping')`);
    return new Map(rows.map((row) => [row.id, toExtras(row)]));
  }

  /** Parks an active session until `until` (its workstation is paused), or unparks it (null). */
  async setKeptUntil(id: SessionId, until: Date | null): Promise<void> {
    await this.db.query('UPDATE sessions SET kept_until = $2 WHERE id = $1', [id, until]);
  }

  /** Active sessions parked past their keep-until time, as of `now`: the sweep stops them. */
  async expiredParked(now: Date = new Date()): Promise<SessionId[]> {
    const rows = await this.db.query<{ id: string }>("SELECT id FROM sessions WHERE status = 'active' AND kept_until IS NOT NULL AND kept_until <= $1 ORDER BY kept_until", [now]);
    return rows.map((row) => row.id as SessionId);
  }

  /** Makes a `starting` session a member of a warm pool, expiring after `idleTimeoutMs` unclaimed. */
  async markPoolMember(id: SessionId, options: { poolKey: string; idleTimeoutMs: number }): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET pool_key = $2, pool_expires_at = now() + ($3::double precision * interval '1 millisecond') WHERE id = $1`,
      [id, options.poolKey, options.idleTimeoutMs],
    );
  }

  /** A pool member's workstation is started and paused: it may be claimed. */
  async markPoolReady(id: SessionId): Promise<void> {
    await this.db.query('UPDATE sessions SET pool_ready_at = now() WHERE id = $1', [id]);
  }

  /**
   * Takes one ready member of a pool for a new owner in one transaction: the row lock (SKIP
   * LOCKED) means two claims never get the same workstation. Returns its session id.
   */
  async claimPoolMember(options: { poolKey: string; userId: string; model: string; provider: string }): Promise<SessionId | undefined> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string }>(
        `SELECT id FROM sessions
          WHERE pool_key = $1 AND status = 'starting' AND pool_ready_at IS NOT NULL AND pool_expires_at > now()
          ORDER BY pool_ready_at
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [options.poolKey],
      );
      const id = rows[0]?.id;
      if (!id) return undefined;
      await tx.query(
        `UPDATE sessions SET pool_key = NULL, pool_ready_at = NULL, pool_expires_at = NULL,
                user_id = $2, model = $3, provider = $4, created_at = now(), updated_at = now()
          WHERE id = $1`,
        [id, options.userId, options.model, options.provider],
      );
      return id as SessionId;
    });
  }

  /** Live pool members (claimed ones excluded), optionally of one pool, oldest first. */
  async poolMembers(poolKey?: string): Promise<SessionExtras[]> {
    const rows = await this.db.query<ExtrasRow>(
      `SELECT ${extrasColumns} FROM sessions WHERE pool_key IS NOT NULL AND status IN ('starting', 'active', 'stopping') AND ($1::text IS NULL OR pool_key = $1) ORDER BY created_at`,
      [poolKey ?? null],
    );
    return rows.map(toExtras);
  }

  /** Ids of every session that is or was a warm-pool member and was never claimed (over or not). */
  async poolMemberIds(): Promise<Set<string>> {
    const rows = await this.db.query<{ id: string }>('SELECT id FROM sessions WHERE pool_key IS NOT NULL');
    return new Set(rows.map((row) => row.id));
  }

  /** Pushes back the idle expiry of a pool's members: someone still starts sessions from it. */
  async extendPoolMembers(poolKey: string, idleTimeoutMs: number): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET pool_expires_at = now() + ($2::double precision * interval '1 millisecond')
        WHERE pool_key = $1 AND status = 'starting'`,
      [poolKey, idleTimeoutMs],
    );
  }

}

/**
 * Re-seals every stored VNC password inside the caller's transaction (the master-key
 * rotation's, in secrets/), rows locked until it commits. `reseal` gets the session id (the
 * sealing context) and the sealed text, and returns it sealed under the new key. Returns how
 * many. A function rather than a SessionStore method: the key store sees only a transaction.
 */
export async function resealVncPasswords(tx: Queryable, reseal: (sessionId: SessionId, sealed: string) => string): Promise<number> {
  const rows = await tx.query<{ id: string; vnc_password_sealed: string }>('SELECT id, vnc_password_sealed FROM sessions WHERE vnc_password_sealed IS NOT NULL FOR UPDATE');
  for (const row of rows) {
    await tx.query('UPDATE sessions SET vnc_password_sealed = $2 WHERE id = $1', [row.id, reseal(row.id as SessionId, row.vnc_password_sealed)]);
  }
  return rows.length;
}


function notFound(id: string): NexoraError {
  return new NexoraError('session-not-found', `No session ${id}: list sessions with \`nexora session list\`.`);
}

function single<T>(rows: T[]): T {
  const row = rows[0];
  if (!row) throw new NexoraError('database-failed', 'The database returned no row where one was expected.');
  return row;
}

