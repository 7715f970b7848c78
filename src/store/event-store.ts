import { z } from 'zod';
import { NexoraError } from '../errors.js';
import type { Db, Queryable } from './db.js';
import type { SessionId } from './session-id.js';
import { jsonbSafe } from './jsonb-safe.js';
import { sqlState, sqlStates, unknownSession } from './sql-error.js';

export interface EventInput {
  sessionId: SessionId;
  /** noun-action, kebab-case: `tool-call`, `session-status-change`. */
  kind: string;
  payload?: unknown;
  durationMs?: number;
}

export interface EventRecord {
  id: number;
  sessionId: SessionId;
  at: Date;
  kind: string;
  payload: unknown;
  durationMs: number | null;
}

export interface EventStoreOptions {
  /**
   * Applied to every payload before it is written. Give it the secrets/ redactor so that a
   * provider key that reached a payload by mistake is stored as `…abcd`.
   */
  redact?: (payload: unknown) => unknown;
}

const kindSchema = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
const durationSchema = z.number().finite().nonnegative();

interface EventRow {
  id: number | string;
  session_id: string;
  at: Date;
  kind: string;
  payload: unknown;
  duration_ms: number | null;
}

/** The audit log: session lifecycle events and tool calls, read back in order for transcripts. */
export class EventStore {
  constructor(
    private readonly db: Db,
    private readonly options: EventStoreOptions = {},
  ) {}

  /** Appends one event; pass a transaction to make it part of a larger change. */
  record(input: EventInput, tx: Queryable = this.db): Promise<EventRecord> {
    return insertEvent(tx, input, this.options);
  }

  /** A session's events in the order they happened, `limit` at a time after `afterId`. */
  async list(sessionId: SessionId, options: { afterId?: number; limit?: number; kinds?: readonly string[] } = {}): Promise<EventRecord[]> {
    const rows = await this.db.query<EventRow>(
      `SELECT id, session_id, at, kind, payload, duration_ms FROM events
        WHERE session_id = $1 AND id > $2 AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
        ORDER BY id LIMIT $4`,
      [sessionId, options.afterId ?? 0, options.kinds && options.kinds.length > 0 ? options.kinds : null, options.limit ?? 1000],
    );
    return rows.map(toRecord);
  }

  /**
   * Of the given sessions, the one whose newest event of `kind` is the most recent (e.g. the
   * last conversation in a workspace), with that event's id.
   */
  async latestSessionWith(kind: string, sessionIds: readonly SessionId[]): Promise<{ sessionId: SessionId; eventId: number } | undefined> {
    if (sessionIds.length === 0) return undefined;
    const rows = await this.db.query<{ session_id: string; id: number | string }>(
      `SELECT session_id, max(id) AS id FROM events
        WHERE kind = $1 AND session_id = ANY($2::text[])
        GROUP BY session_id ORDER BY max(id) DESC LIMIT 1`,
      [kind, [...sessionIds]],
    );
    const row = rows[0];
    return row ? { sessionId: row.session_id as SessionId, eventId: Number(row.id) } : undefined;
  }

  /** Every event of a session (optionally of some kinds), read a page at a time. */
  async listAll(sessionId: SessionId, options: { kinds?: readonly string[]; afterId?: number } = {}): Promise<EventRecord[]> {
    const all: EventRecord[] = [];
    for (;;) {
      const page = await this.list(sessionId, { ...options, afterId: all.at(-1)?.id ?? options.afterId ?? 0, limit: 1000 });
      all.push(...page);
      if (page.length < 1000) return all;
    }
  }
}

function toRecord(row: EventRow): EventRecord {
  return {
    // int8 arrives as a string from node-postgres and a number from PGlite.
    id: Number(row.id),
    sessionId: row.session_id as SessionId,
    at: new Date(row.at),
    kind: row.kind,
    payload: row.payload,
    durationMs: row.duration_ms,
  };
}

/** Deletes a session's history inside the caller's transaction (the session is being removed). */
export async function deleteEventsOf(tx: Queryable, sessionId: SessionId): Promise<void> {
  await tx.query('DELETE FROM events WHERE session_id = $1', [sessionId]);
}

/**
 * The one way an event is written, for the event store and for the lifecycle events the
 * sessions table records in its own transactions: the kind checked, the payload redacted and
 * made storable (NUL and lone surrogates, which arrive in workstation output, would fail the
 * insert and with it the status change it belongs to).
 */
export async function insertEvent(tx: Queryable, input: EventInput, options: EventStoreOptions = {}): Promise<EventRecord> {
  if (!kindSchema.safeParse(input.kind).success) {
    throw new NexoraError('invalid-argument', `Event kind "${input.kind.slice(0, 60)}" is not noun-action kebab-case (e.g. tool-call, session-end).`);
  }
  if (input.durationMs !== undefined && !durationSchema.safeParse(input.durationMs).success) {
    throw new NexoraError('invalid-argument', `Event duration ${input.durationMs} is not a finite number of milliseconds ≥ 0.`);
  }
  const payload = jsonbSafe(options.redact ? options.redact(input.payload ?? {}) : (input.payload ?? {}));
  const rows = await tx
    .query<EventRow>(
      'INSERT INTO events (session_id, kind, payload, duration_ms) VALUES ($1, $2, $3::jsonb, $4) RETURNING id, session_id, at, kind, payload, duration_ms',
      [input.sessionId, input.kind, JSON.stringify(payload), input.durationMs ?? null],
    )
    .catch((error: unknown) => {
      if (sqlState(error) === sqlStates.foreignKeyViolation) throw unknownSession(input.sessionId, error);
      throw error;
    });
  const row = rows[0];
  if (!row) throw new NexoraError('database-failed', 'Inserting an event returned no row.');
  return toRecord(row);
}
