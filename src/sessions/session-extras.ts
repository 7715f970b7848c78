import type { Db, Queryable, SessionId } from '../store/index.js';
import type { ContainerOwner } from '../workstation/labels.js';

/** The session manager's own columns (migration 002) beside the store's session record. */
export interface SessionExtras {
  id: SessionId;
  owner: ContainerOwner | undefined;
  poolKey: string | null;
  poolReadyAt: Date | null;
  poolExpiresAt: Date | null;
}

interface ExtrasRow {
  id: string;
  owner_host: string | null;
  owner_pid: number | null;
  owner_instance: string | null;
  pool_key: string | null;
  pool_ready_at: Date | null;
  pool_expires_at: Date | null;
}

const columns = 'id, owner_host, owner_pid, owner_instance, pool_key, pool_ready_at, pool_expires_at';

function toExtras(row: ExtrasRow): SessionExtras {
  return {
    id: row.id as SessionId,
    owner:
      row.owner_host && row.owner_pid && row.owner_instance
        ? { host: row.owner_host, pid: row.owner_pid, instance: row.owner_instance }
        : undefined,
    poolKey: row.pool_key,
    poolReadyAt: row.pool_ready_at ? new Date(row.pool_ready_at) : null,
    poolExpiresAt: row.pool_expires_at ? new Date(row.pool_expires_at) : null,
  };
}

/** Marks which process is working on a session (undefined: nobody). */
export async function setOwner(db: Queryable, id: SessionId, owner: ContainerOwner | undefined): Promise<void> {
  await db.query('UPDATE sessions SET owner_host = $2, owner_pid = $3, owner_instance = $4 WHERE id = $1', [
    id,
    owner?.host ?? null,
    owner?.pid ?? null,
    owner?.instance ?? null,
  ]);
}

/** The extras of every session that is not over. */
export async function liveExtras(db: Queryable): Promise<Map<string, SessionExtras>> {
  const rows = await db.query<ExtrasRow>(`SELECT ${columns} FROM sessions WHERE status IN ('starting', 'active', 'stopping')`);
  return new Map(rows.map((row) => [row.id, toExtras(row)]));
}

export async function getExtras(db: Queryable, id: SessionId): Promise<SessionExtras | undefined> {
  const rows = await db.query<ExtrasRow>(`SELECT ${columns} FROM sessions WHERE id = $1`, [id]);
  return rows[0] ? toExtras(rows[0]) : undefined;
}

export async function markPoolMember(db: Queryable, id: SessionId, poolKey: string, idleTimeoutMs: number): Promise<void> {
  await db.query(
    `UPDATE sessions SET pool_key = $2, pool_expires_at = now() + ($3::double precision * interval '1 millisecond') WHERE id = $1`,
    [id, poolKey, idleTimeoutMs],
  );
}

export async function markPoolReady(db: Queryable, id: SessionId): Promise<void> {
  await db.query('UPDATE sessions SET pool_ready_at = now() WHERE id = $1', [id]);
}

/**
 * Takes one ready member of a pool for a new owner in one transaction: the row lock (SKIP
 * LOCKED) means two claims never get the same workstation. Returns its session id.
 */
export async function claimPoolMember(
  db: Db,
  options: { poolKey: string; userId: string; model: string; provider: string },
): Promise<SessionId | undefined> {
  return db.transaction(async (tx) => {
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

/** Pool members (claimed ones excluded), optionally of one pool. */
export async function poolMembers(db: Queryable, poolKey?: string): Promise<SessionExtras[]> {
  const rows = await db.query<ExtrasRow>(
    `SELECT ${columns} FROM sessions WHERE pool_key IS NOT NULL AND status IN ('starting', 'active', 'stopping') AND ($1::text IS NULL OR pool_key = $1) ORDER BY created_at`,
    [poolKey ?? null],
  );
  return rows.map(toExtras);
}

/** Pushes back the idle expiry of a pool's members: someone still starts sessions from it. */
export async function extendPoolMembers(db: Queryable, poolKey: string, idleTimeoutMs: number): Promise<void> {
  await db.query(
    `UPDATE sessions SET pool_expires_at = now() + ($2::double precision * interval '1 millisecond')
      WHERE pool_key = $1 AND status = 'starting'`,
    [poolKey, idleTimeoutMs],
  );
}
