import { NexoraError } from '../errors.js';
import type { Db, Queryable } from './db.js';
import { randomBase32 } from './session-id.js';
import type { SessionId } from './session-id.js';
import { sqlState, sqlStates, unknownSession } from './sql-error.js';

export interface VncSessionRecord {
  id: string;
  sessionId: SessionId;
  containerId: string;
  vncPort: number;
  cdpPort: number;
  status: 'active' | 'closed';
  createdAt: Date;
  lastActivity: Date;
  closedAt: Date | null;
}

interface VncSessionRow {
  id: string;
  session_id: string;
  container_id: string;
  vnc_port: number;
  cdp_port: number;
  status: 'active' | 'closed';
  created_at: Date;
  last_activity: Date;
  closed_at: Date | null;
}

const columns = 'id, session_id, container_id, vnc_port, cdp_port, status, created_at, last_activity, closed_at';

/** VNC connections to a session's workstation (the seed's vnc_sessions), with their last activity. */
export class VncSessionStore {
  constructor(private readonly db: Db) {}

  async open(input: { sessionId: SessionId; containerId: string; vncPort: number; cdpPort: number }): Promise<VncSessionRecord> {
    const rows = await this.db
      .query<VncSessionRow>(`INSERT INTO vnc_sessions (id, session_id, container_id, vnc_port, cdp_port) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`, [
        `vnc_${randomBase32(20)}`,
        input.sessionId,
        input.containerId,
        input.vncPort,
        input.cdpPort,
      ])
      .catch((error: unknown) => {
        if (sqlState(error) === sqlStates.foreignKeyViolation) throw unknownSession(input.sessionId, error);
        throw error;
      });
    return toRecord(expectRow(rows, input.sessionId));
  }

  /** Marks activity now (keeps an idle check from closing it). */
  async touch(id: string): Promise<void> {
    const rows = await this.db.query("UPDATE vnc_sessions SET last_activity = now() WHERE id = $1 AND status = 'active' RETURNING id", [id]);
    if (rows.length === 0) throw notFound(id);
  }

  async close(id: string): Promise<void> {
    await this.db.query("UPDATE vnc_sessions SET status = 'closed', closed_at = now() WHERE id = $1 AND status = 'active'", [id]);
  }

  /** Closes every open VNC connection of a session (when it ends). */
  async closeAll(sessionId: SessionId): Promise<number> {
    const rows = await this.db.query("UPDATE vnc_sessions SET status = 'closed', closed_at = now() WHERE session_id = $1 AND status = 'active' RETURNING id", [sessionId]);
    return rows.length;
  }

  async get(id: string): Promise<VncSessionRecord> {
    const rows = await this.db.query<VncSessionRow>(`SELECT ${columns} FROM vnc_sessions WHERE id = $1`, [id]);
    if (!rows[0]) throw notFound(id);
    return toRecord(rows[0]);
  }

  async list(filter: { sessionId?: SessionId; status?: 'active' | 'closed' } = {}): Promise<VncSessionRecord[]> {
    const rows = await this.db.query<VncSessionRow>(
      `SELECT ${columns} FROM vnc_sessions WHERE ($1::text IS NULL OR session_id = $1) AND ($2::text IS NULL OR status = $2) ORDER BY created_at, id`,
      [filter.sessionId ?? null, filter.status ?? null],
    );
    return rows.map(toRecord);
  }
}

function expectRow(rows: VncSessionRow[], sessionId: string): VncSessionRow {
  if (!rows[0]) throw new NexoraError('database-failed', `Recording a VNC connection for session ${sessionId} returned no row.`);
  return rows[0];
}

function notFound(id: string): NexoraError {
  return new NexoraError('session-not-found', `No active VNC connection ${id}.`);
}

function toRecord(row: VncSessionRow): VncSessionRecord {
  return {
    id: row.id,
    sessionId: row.session_id as SessionId,
    containerId: row.container_id,
    vncPort: row.vnc_port,
    cdpPort: row.cdp_port,
    status: row.status,
    createdAt: new Date(row.created_at),
    lastActivity: new Date(row.last_activity),
    closedAt: row.closed_at ? new Date(row.closed_at) : null,
  };
}

/** Deletes a session's VNC connection records inside the caller's transaction (the session is being removed). */
export async function deleteVncSessionsOf(tx: Queryable, sessionId: SessionId): Promise<void> {
  await tx.query('DELETE FROM vnc_sessions WHERE session_id = $1', [sessionId]);
}
