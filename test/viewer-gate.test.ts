import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import { EventStore, newSessionId, openDatabase, SessionStore, type Db, type SessionId } from '../src/store/index.js';
import { EventLogGate } from '../src/viewer/event-log-gate.js';
import { startViewerServer, type ViewerServer } from '../src/viewer/viewer-server.js';

/**
 * Take-over across processes: the web view (as `nexora view` runs it, with gates of its own)
 * records control events in the store, and an agent elsewhere holds its input on an
 * EventLogGate that follows them. Real PGlite store, real HTTP.
 */
let dir: string;
let db: Db;
let sessionId: SessionId;
let server: ViewerServer;
let events: EventStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nexora-gate-'));
  db = await openDatabase({ dataDir: join(dir, 'db'), env: { DATABASE_URL: '' }, waitMs: 10_000 });
  sessionId = newSessionId();
  await new SessionStore(db).create({ id: sessionId, userId: 'local', model: 'test/m', provider: 'test' });
  events = new EventStore(db);
  server = await startViewerServer({
    backend: {
      listSessions: () => Promise.resolve([]),
      rfbEndpoint: () => Promise.reject(new Error('no workstation in this test')),
      listEvents: (id, options) => events.list(id as SessionId, options),
      recordEvent: async (id, kind, payload) => {
        await events.record({ sessionId: id as SessionId, kind, payload });
      },
    },
  });
});

afterAll(async () => {
  await server?.close();
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function control(action: 'take' | 'hand-back'): Promise<string> {
  const response = await fetch(`${server.url}api/sessions/${sessionId}/control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action }) });
  const body = (await response.json()) as { holder: string };
  // The web view writes the event without waiting: wait until it is in the store.
  const kind = action === 'take' ? 'control-take' : 'control-return';
  for (let tries = 0; tries < 50 && !(await events.list(sessionId, { kinds: [kind] })).length; tries++) await sleep(20);
  return body.holder;
}

describe('EventLogGate', () => {
  it('holds an agent in another process while a person has control, and lets it go on hand-back', async () => {
    let looks = 0;
    const gate = new EventLogGate({
      sessionId,
      listEvents: (options) => {
        looks += 1;
        return events.list(sessionId, options);
      },
      pollMs: 50,
    });
    await gate.waitForAgent();
    expect(gate.holder).toBe('agent');

    expect(await control('take')).toBe('person');
    let released = false;
    const looked = looks;
    const waiting = gate.waitForAgent().then(() => (released = true));
    // The gate has read the log three times since the take (so it has seen it) and still holds the agent.
    while (looks < looked + 3) await sleep(10);
    expect(released).toBe(false);
    expect(gate.holder).toBe('person');

    const handedBack = performance.now();
    expect(await control('hand-back')).toBe('agent');
    await waiting;
    console.log(`agent released ${Math.round(performance.now() - handedBack)} ms after hand-back`);
    expect(gate.holder).toBe('agent');

    expect(await control('take')).toBe('person');
    const controller = new AbortController();
    const aborted = gate.waitForAgent(controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(aborted).rejects.toSatisfy((error: unknown) => NexoraError.is(error, 'aborted'));
    await control('hand-back');
  });
});
