import { setTimeout as sleep } from 'node:timers/promises';
import { NexoraError } from '../errors.js';
import { inTransaction, isDb, type Db, type Queryable } from './db.js';
import { isLocalPortFree } from './port-probe.js';
import type { SessionId } from './session-id.js';
import { sqlState, sqlStates, unknownSession } from './sql-error.js';

export type PortRange = readonly [low: number, high: number];
export type PortType = 'vnc' | 'cdp';

export interface PortAllocatorOptions {
  vncRange?: PortRange;
  cdpRange?: PortRange;
  /** Whether a port is free on the host; default: try to bind it on 127.0.0.1. */
  isPortFree?: (port: number) => Promise<boolean>;
}

export interface PortPair {
  vncPort: number;
  cdpPort: number;
}

export interface PortHolder {
  sessionId: SessionId;
  vncPort: number | null;
  cdpPort: number | null;
  allocatedAt: Date;
}

/** Raised when a range has no port left; says how many sessions hold ports. */
export class PortsExhaustedError extends NexoraError {
  constructor(
    readonly portType: PortType,
    readonly range: PortRange,
    readonly holderCount: number,
    readonly busyElsewhere: number,
  ) {
    const name = portType === 'vnc' ? 'VNC' : 'CDP';
    const elsewhere = busyElsewhere > 0 ? ` and ${busyElsewhere} are in use by other programs on this host` : '';
    super(
      'ports-exhausted',
      `No free ${name} port in ${range[0]}–${range[1]}: ${holderCount} session(s) hold ports${elsewhere}. ` +
        `Stop sessions you no longer need (\`nexora session list\`, then \`nexora session stop <id>\`), release ports leaked by crashed ones with \`nexora session gc\`, or configure a wider ${name} port range.`,
    );
    this.name = 'PortsExhaustedError';
  }
}

export const defaultVncRange: PortRange = [5900, 5999];
export const defaultCdpRange: PortRange = [9222, 9321];

// How long to wait for in-flight allocations holding the last free rows before giving up.
const lockWaitMs = 10_000;

/**
 * Hands each session one VNC and one CDP port in a single transaction: candidate rows are
 * locked with FOR UPDATE SKIP LOCKED, so concurrent allocators never see the same free port,
 * and either both ports are taken or neither is.
 */
export class PortAllocator {
  readonly vncRange: PortRange;
  readonly cdpRange: PortRange;
  private readonly isPortFree: (port: number) => Promise<boolean>;
  private readonly seeded = new WeakSet<object>();

  constructor(options: PortAllocatorOptions = {}) {
    this.vncRange = checkRange('VNC', options.vncRange ?? defaultVncRange);
    this.cdpRange = checkRange('CDP', options.cdpRange ?? defaultCdpRange);
    if (this.vncRange[0] <= this.cdpRange[1] && this.cdpRange[0] <= this.vncRange[1]) {
      throw new NexoraError('invalid-config', `The VNC port range ${this.vncRange.join('–')} overlaps the CDP range ${this.cdpRange.join('–')}: make them disjoint.`);
    }
    this.isPortFree = options.isPortFree ?? ((port) => isLocalPortFree(port));
  }

  /**
   * Allocates a VNC and a CDP port to `sessionId`, or nothing. Given a Db it runs its own
   * transaction; given a transaction it joins it (and is undone if that rolls back). A session
   * that already holds a pair gets that pair again.
   */
  async allocate(db: Db | Queryable, sessionId: SessionId): Promise<PortPair> {
    if (isDb(db)) await this.seed(db);
    return inTransaction(db, async (tx) => {
      if (!isDb(db)) await this.seedRanges(tx);
      const held = await tx.query<{ port: number; port_type: PortType }>('SELECT port, port_type FROM port_allocations WHERE session_id = $1 FOR UPDATE', [sessionId]);
      const heldVnc = held.find((row) => row.port_type === 'vnc')?.port;
      const heldCdp = held.find((row) => row.port_type === 'cdp')?.port;
      const vncPort = heldVnc ?? (await this.take(tx, 'vnc', sessionId));
      const cdpPort = heldCdp ?? (await this.take(tx, 'cdp', sessionId));
      return { vncPort, cdpPort };
    });
  }

  /** Frees every port the session holds. */
  async release(db: Db | Queryable, sessionId: SessionId): Promise<number> {
    return releasePorts(db, sessionId);
  }

  /** The sessions that hold ports now. */
  async holders(db: Db | Queryable): Promise<PortHolder[]> {
    const rows = await db.query<{ session_id: string; vnc_port: number | null; cdp_port: number | null; allocated_at: Date }>(
      `SELECT session_id,
              max(port) FILTER (WHERE port_type = 'vnc') AS vnc_port,
              max(port) FILTER (WHERE port_type = 'cdp') AS cdp_port,
              min(allocated_at) AS allocated_at
         FROM port_allocations WHERE is_allocated GROUP BY session_id ORDER BY min(allocated_at), session_id`,
    );
    return rows.map((row) => ({ sessionId: row.session_id as SessionId, vncPort: row.vnc_port, cdpPort: row.cdp_port, allocatedAt: new Date(row.allocated_at) }));
  }

  private async take(tx: Queryable, portType: PortType, sessionId: SessionId): Promise<number> {
    const [low, high] = portType === 'vnc' ? this.vncRange : this.cdpRange;
    const busy: number[] = [];
    const deadline = Date.now() + lockWaitMs;
    for (;;) {
      // One row at a time: every lock held here is a port other allocators must skip.
      const candidates = await tx.query<{ port: number }>(
        `SELECT port FROM port_allocations
          WHERE port_type = $1 AND NOT is_allocated AND port BETWEEN $2 AND $3 AND NOT (port = ANY($4::int[]))
          ORDER BY port
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [portType, low, high, busy],
      );
      const port = candidates[0]?.port;
      if (port === undefined) {
        // Free rows that SKIP LOCKED passed over belong to allocations still in flight: they
        // may roll back, so the range is only exhausted once none are left.
        const inFlight = await tx.query<{ count: number }>(
          'SELECT count(*)::int AS count FROM port_allocations WHERE port_type = $1 AND NOT is_allocated AND port BETWEEN $2 AND $3 AND NOT (port = ANY($4::int[]))',
          [portType, low, high, busy],
        );
        if ((inFlight[0]?.count ?? 0) > 0 && Date.now() < deadline) {
          await sleep(5 + Math.random() * 20);
          continue;
        }
        const count = await tx.query<{ holders: number }>('SELECT count(DISTINCT session_id)::int AS holders FROM port_allocations WHERE is_allocated');
        throw new PortsExhaustedError(portType, [low, high], count[0]?.holders ?? 0, busy.length);
      }
      if (!(await this.isPortFree(port))) {
        busy.push(port);
        continue;
      }
      await tx.query('UPDATE port_allocations SET is_allocated = true, session_id = $2, allocated_at = now() WHERE port = $1', [port, sessionId]).catch((error: unknown) => {
        if (sqlState(error) === sqlStates.foreignKeyViolation) throw unknownSession(sessionId, error);
        throw error;
      });
      return port;
    }
  }

  /** Adds rows for the configured ranges once per database, outside the allocation transaction. */
  private async seed(db: Db): Promise<void> {
    if (this.seeded.has(db)) return;
    await db.transaction((tx) => this.seedRanges(tx));
    this.seeded.add(db);
  }

  private async seedRanges(tx: Queryable): Promise<void> {
    for (const [portType, [low, high]] of [['vnc', this.vncRange], ['cdp', this.cdpRange]] as const) {
      // DO NOTHING takes no row locks, so seeding never waits behind an allocation.
      await tx.query(
        `INSERT INTO port_allocations (port, port_type)
         SELECT port, $1 FROM generate_series($2::int, $3::int) AS port
         ON CONFLICT (port) DO NOTHING`,
        [portType, low, high],
      );
      // A port that moved from one range to the other since it was seeded changes type while free.
      await tx.query('UPDATE port_allocations SET port_type = $1 WHERE port BETWEEN $2 AND $3 AND port_type <> $1 AND NOT is_allocated', [portType, low, high]);
    }
  }
}

/** Frees every port a session holds (also run when a session ends). */
export async function releasePorts(db: Queryable, sessionId: string): Promise<number> {
  const rows = await db.query('UPDATE port_allocations SET is_allocated = false, session_id = NULL, allocated_at = NULL WHERE session_id = $1 RETURNING port', [sessionId]);
  return rows.length;
}

function checkRange(name: string, range: PortRange): PortRange {
  const [low, high] = range;
  if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1024 || high > 65535 || low > high) {
    throw new NexoraError('invalid-config', `The ${name} port range ${low}–${high} is not valid: give two whole numbers, low ≤ high, within 1024–65535.`);
  }
  return [low, high];
}
