import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import { PortAllocator, PortsExhaustedError, newSessionId, type Db, type SessionId } from '../src/store/index.js';
import { engines, useTestStore } from './fixtures/db-engines.js';

const always = () => Promise.resolve(true);

describe.each(engines)('port allocation on %s', (engine) => {
  const store = useTestStore(engine);
  const newSession = () => store.newSession();

  async function allocatedCounts(low: number, high: number): Promise<{ vnc: number; cdp: number }> {
    const rows = await store.db.query<{ port_type: string; count: number }>(
      'SELECT port_type, count(*)::int AS count FROM port_allocations WHERE is_allocated AND port BETWEEN $1 AND $2 GROUP BY port_type',
      [low, high],
    );
    return { vnc: rows.find((row) => row.port_type === 'vnc')?.count ?? 0, cdp: rows.find((row) => row.port_type === 'cdp')?.count ?? 0 };
  }

  it('gives 100 concurrent sessions 100 distinct pairs from separate connections, and the 101st a typed error', async () => {
    const allocator = new PortAllocator({ vncRange: [20000, 20099], cdpRange: [21000, 21099], isPortFree: always });
    const ids = await Promise.all(Array.from({ length: 101 }, () => newSession()));
    // On the server: five pools (as if five processes), 50 connections in all.
    const extra = engine === 'postgres' ? await Promise.all(Array.from({ length: 4 }, () => store.target.connect({ poolSize: 10 }))) : [];
    const dbs = [store.db, ...extra];
    try {
      // All 101 at once: exactly one must lose, whichever it is.
      const results = await Promise.allSettled(ids.map((id, index) => allocator.allocate(dbs[index % dbs.length] as Db, id)));
      const pairs = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const failures = results.flatMap((result, index) => (result.status === 'rejected' ? [{ error: result.reason as unknown, id: ids[index] }] : []));
      expect(pairs).toHaveLength(100);
      expect(new Set(pairs.map((pair) => pair.vncPort)).size).toBe(100);
      expect(new Set(pairs.map((pair) => pair.cdpPort)).size).toBe(100);
      for (const pair of pairs) {
        expect(pair.vncPort).toBeGreaterThanOrEqual(20000);
        expect(pair.vncPort).toBeLessThanOrEqual(20099);
        expect(pair.cdpPort).toBeGreaterThanOrEqual(21000);
        expect(pair.cdpPort).toBeLessThanOrEqual(21099);
      }
      expect(failures).toHaveLength(1);
      const [{ error, id: last }] = failures as [{ error: unknown; id: SessionId }];
      expect(error).toBeInstanceOf(PortsExhaustedError);
      expect(NexoraError.is(error, 'ports-exhausted')).toBe(true);
      expect((error as Error).message).toMatch(/session\(s\) hold ports.*nexora session stop.*nexora session gc/);
      // A later attempt sees all 100 holders.
      const again = await allocator.allocate(store.db, last).catch((caught: unknown) => caught);
      expect((again as PortsExhaustedError).holderCount).toBe(100);
      expect(await allocatedCounts(20000, 21099)).toEqual({ vnc: 100, cdp: 100 });
      expect(await store.db.query('SELECT port FROM port_allocations WHERE session_id = $1', [last])).toEqual([]);
      const holders = await allocator.holders(store.db);
      expect(holders.filter((holder) => ids.includes(holder.sessionId))).toHaveLength(100);
      expect(holders.every((holder) => holder.vncPort !== null && holder.cdpPort !== null)).toBe(true);
    } finally {
      await Promise.all(extra.map((other) => other.close()));
    }
  });

  it('allocates nothing when the second range is exhausted after the first succeeded', async () => {
    const allocator = new PortAllocator({ vncRange: [22000, 22002], cdpRange: [23000, 23001], isPortFree: always });
    const [a, b, c] = [await newSession(), await newSession(), await newSession()];
    await allocator.allocate(store.db, a);
    await allocator.allocate(store.db, b);
    const error = await allocator.allocate(store.db, c).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortsExhaustedError);
    expect((error as PortsExhaustedError).portType).toBe('cdp');
    expect(await store.db.query('SELECT port FROM port_allocations WHERE session_id = $1', [c])).toEqual([]);
    expect(await allocatedCounts(22000, 23001)).toEqual({ vnc: 2, cdp: 2 });
  });

  it('leaves no allocation behind when the surrounding transaction fails half-way', async () => {
    const allocator = new PortAllocator({ vncRange: [24000, 24009], cdpRange: [25000, 25009], isPortFree: always });
    const id = await newSession();
    await expect(
      store.db.transaction(async (tx) => {
        const pair = await allocator.allocate(tx, id);
        expect(pair.vncPort).toBe(24000);
        throw new Error('container failed to start');
      }),
    ).rejects.toThrow('container failed to start');
    expect(await store.db.query('SELECT port FROM port_allocations WHERE session_id = $1', [id])).toEqual([]);
    expect(await allocatedCounts(24000, 25009)).toEqual({ vnc: 0, cdp: 0 });
    expect(await allocator.allocate(store.db, id)).toEqual({ vncPort: 24000, cdpPort: 25000 });
  });

  it('returns the same pair to a session that asks twice, and frees it when the session ends', async () => {
    const allocator = new PortAllocator({ vncRange: [26000, 26000], cdpRange: [27000, 27000], isPortFree: always });
    const id = await newSession();
    const pair = await allocator.allocate(store.db, id);
    expect(await allocator.allocate(store.db, id)).toEqual(pair);
    const other = await newSession();
    await expect(allocator.allocate(store.db, other)).rejects.toBeInstanceOf(PortsExhaustedError);
    await store.sessions.transition(id, 'stopping');
    await store.sessions.transition(id, 'ended');
    expect(await allocator.allocate(store.db, other)).toEqual(pair);
    expect(await allocator.release(store.db, other)).toBe(2);
    expect(await allocatedCounts(26000, 27000)).toEqual({ vnc: 0, cdp: 0 });
  });

  it('skips a port another program on the host listens on', async () => {
    const listener = await listen();
    try {
      const busy = (listener.address() as { port: number }).port;
      // A range starting at the busy port; the next one is free unless something else holds it too.
      const allocator = new PortAllocator({ vncRange: [busy, busy + 5], cdpRange: [busy + 6, busy + 11] });
      const id = await newSession();
      const pair = await allocator.allocate(store.db, id);
      expect(pair.vncPort).not.toBe(busy);
      expect(pair.vncPort).toBeGreaterThan(busy);
      const onlyBusy = new PortAllocator({ vncRange: [busy, busy], cdpRange: [busy + 12, busy + 13] });
      const error = await onlyBusy.allocate(store.db, await newSession()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PortsExhaustedError);
      expect((error as Error).message).toMatch(/1 are in use by other programs/);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('refuses to allocate to a session the store does not have', async () => {
    const allocator = new PortAllocator({ vncRange: [28000, 28001], cdpRange: [29000, 29001], isPortFree: always });
    await expect(allocator.allocate(store.db, newSessionId())).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
    expect(await allocatedCounts(28000, 29001)).toEqual({ vnc: 0, cdp: 0 });
  });

  it('refuses bad or overlapping ranges', () => {
    expect(() => new PortAllocator({ vncRange: [6000, 5000] })).toThrow(/not valid/);
    expect(() => new PortAllocator({ vncRange: [9000, 9300] })).toThrow(/overlaps/);
    expect(() => new PortAllocator({ cdpRange: [80, 90] })).toThrow(/1024–65535/);
  });
});

async function listen(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  return server;
}
