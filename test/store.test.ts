import { describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import {
  EventStore,
  VncSessionStore,
  loadMigrations,
  migrateDatabase,
  migrationStatus,
  newSessionId,
  openDatabase,
  type SessionId,
} from '../src/store/index.js';
import { engines, useTestStore } from './fixtures/db-engines.js';

// The same suite against embedded PGlite and a real PostgreSQL server.
describe.each(engines)('store on %s', (engine) => {
  const store = useTestStore(engine);
  const newSession = () => store.newSession();

  describe('migrations', () => {
    it('applies every migration once and records it', async () => {
      const status = await migrationStatus(store.db, loadMigrations());
      expect(status.pending).toEqual([]);
      expect(status.applied.map((migration) => migration.version)).toEqual(loadMigrations().map((migration) => migration.version));
      expect(await migrateDatabase(store.db)).toEqual([]);
      const tables = await store.db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.map((row) => row.table_name)).toEqual(['events', 'port_allocations', 'providers_auth', 'schema_migrations', 'sessions', 'vnc_sessions']);
    });

    it('reports the location without a password', () => {
      expect(store.db.kind).toBe(engine);
      expect(store.db.location).not.toContain('nexora_test:nexora_test');
    });
  });

  describe('transactions', () => {
    it('commits when the function resolves and rolls back when it throws', async () => {
      const kept = newSessionId();
      const dropped = newSessionId();
      await store.db.transaction(async (tx) => {
        await tx.query("INSERT INTO sessions (id, user_id, model, provider) VALUES ($1, 'u', 'm', 'p')", [kept]);
      });
      await expect(
        store.db.transaction(async (tx) => {
          await tx.query("INSERT INTO sessions (id, user_id, model, provider) VALUES ($1, 'u', 'm', 'p')", [dropped]);
          throw new Error('half-way');
        }),
      ).rejects.toThrow('half-way');
      expect(await store.sessions.find(kept)).toBeDefined();
      expect(await store.sessions.find(dropped)).toBeUndefined();
    });
  });

  describe('sessions', () => {
    it('creates, reads and lists sessions with filters', async () => {
      const id = await newSession();
      const session = await store.sessions.get(id);
      expect(session).toMatchObject({ id, userId: 'user-1', model: 'claude-sonnet-4', provider: 'anthropic', status: 'starting', workspaceDir: '/tmp/ws', endedAt: null });
      expect(session.createdAt).toBeInstanceOf(Date);
      const other = await newSession();
      await store.sessions.transition(other, 'active');
      const starting = await store.sessions.list({ status: 'starting' });
      expect(starting.map((row) => row.id)).toContain(id);
      expect(starting.map((row) => row.id)).not.toContain(other);
      const both = await store.sessions.list({ statuses: ['starting', 'active'] });
      expect(both.map((row) => row.id)).toEqual(expect.arrayContaining([id, other]));
      await expect(store.sessions.create({ id, userId: 'u', model: 'm', provider: 'p' })).rejects.toThrow(/already exists/);
      await expect(store.sessions.create({ id: 'has space' as SessionId, userId: 'u', model: 'm', provider: 'p' })).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
      await expect(store.sessions.list({ status: 'bogus' as never })).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
    });

    it('adds up the tokens and money of each step on the session', async () => {
      const id = await newSession();
      expect(await store.sessions.usage(id)).toEqual({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, usd: 0 });
      await store.sessions.addUsage(id, { inputTokens: 1200, outputTokens: 80, cachedInputTokens: 1000, usd: 0.0042 });
      const total = await store.sessions.addUsage(id, { inputTokens: 300, outputTokens: 20, cachedInputTokens: 0, usd: 0.0011 });
      expect(total).toEqual({ inputTokens: 1500, outputTokens: 100, cachedInputTokens: 1000, usd: 0.0053 });
      expect(await store.sessions.usage(id)).toEqual(total);
      await expect(store.sessions.addUsage(id, { inputTokens: -1, outputTokens: 0, cachedInputTokens: 0, usd: 0 })).rejects.toThrow(/usage.inputTokens must be a non-negative/);
      await expect(store.sessions.usage('ses_missing' as SessionId)).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
    });

    it('follows starting → active → stopping → ended, setting the end time', async () => {
      const id = await newSession();
      expect((await store.sessions.transition(id, 'active')).status).toBe('active');
      expect((await store.sessions.transition(id, 'stopping', { reason: 'user asked' })).statusReason).toBe('user asked');
      const ended = await store.sessions.transition(id, 'ended');
      expect(ended.status).toBe('ended');
      expect(ended.endedAt).toBeInstanceOf(Date);
    });

    it('allows crashed from any live state and refuses illegal transitions', async () => {
      const id = await newSession();
      await expect(store.sessions.transition(id, 'ended')).rejects.toSatisfy((error) => NexoraError.is(error, 'session-invalid-transition'));
      expect((await store.sessions.get(id)).status).toBe('starting');
      await store.sessions.transition(id, 'active');
      await expect(store.sessions.transition(id, 'starting')).rejects.toThrow(/cannot become starting/);
      await store.sessions.transition(id, 'crashed', { reason: 'container died' });
      await expect(store.sessions.transition(id, 'active')).rejects.toThrow(/already over/);
      await expect(store.sessions.transition(newSessionId(), 'active')).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
    });

    it('records lifecycle events in the same transaction', async () => {
      const id = await newSession();
      await store.sessions.transition(id, 'active');
      await expect(store.sessions.transition(id, 'ended')).rejects.toThrow();
      const events = await new EventStore(store.db).list(id);
      expect(events.map((event) => event.kind)).toEqual(['session-create', 'session-status-change']);
      expect(events[1]?.payload).toEqual({ from: 'starting', to: 'active', reason: null });
    });

    it('stores the container, ports and a sealed VNC password, and forgets the password at the end', async () => {
      const id = await newSession();
      await store.sessions.setContainer(id, { containerId: 'abc123', vncPort: 5901, cdpPort: 9223 });
      await store.sessions.setVncPassword(id, 'v1.sealed-text');
      expect(await store.sessions.get(id)).toMatchObject({ containerId: 'abc123', vncPort: 5901, cdpPort: 9223 });
      expect(await store.sessions.getVncPassword(id)).toBe('v1.sealed-text');
      await store.sessions.transition(id, 'stopping');
      await store.sessions.transition(id, 'ended');
      expect(await store.sessions.getVncPassword(id)).toBeUndefined();
      await expect(store.sessions.setContainer(newSessionId(), { containerId: 'x', vncPort: 5901, cdpPort: 9223 })).rejects.toSatisfy((error) =>
        NexoraError.is(error, 'session-not-found'),
      );
    });

    it('rejects rows the constraints forbid', async () => {
      await expect(store.db.query("INSERT INTO sessions (id, user_id, model, provider, status) VALUES ('ses_bad', 'u', 'm', 'p', 'paused')")).rejects.toThrow();
      await expect(store.db.query("INSERT INTO sessions (id, user_id, model, provider, status) VALUES ('ses_bad2', 'u', 'm', 'p', 'ended')")).rejects.toThrow();
      await expect(store.db.query("INSERT INTO sessions (id, user_id, model, provider) VALUES ('has space', 'u', 'm', 'p')")).rejects.toThrow();
    });
  });

  describe('events', () => {
    it('appends events with payload and duration and pages through them in order', async () => {
      const id = await newSession();
      const events = new EventStore(store.db);
      const first = await events.record({ sessionId: id, kind: 'tool-call', payload: { tool: 'screen', text: 'naïve ✓' }, durationMs: 12.5 });
      expect(first).toMatchObject({ sessionId: id, kind: 'tool-call', payload: { tool: 'screen', text: 'naïve ✓' }, durationMs: 12.5 });
      expect(typeof first.id).toBe('number');
      for (let index = 0; index < 5; index++) await events.record({ sessionId: id, kind: 'tool-call', payload: { index } });
      const page = await events.list(id, { afterId: first.id, limit: 3, kinds: ['tool-call'] });
      expect(page.map((event) => event.payload)).toEqual([{ index: 0 }, { index: 1 }, { index: 2 }]);
      const rest = await events.list(id, { afterId: page.at(-1)?.id, kinds: ['tool-call'] });
      expect(rest.map((event) => event.payload)).toEqual([{ index: 3 }, { index: 4 }]);
    });

    it('refuses bad kinds, negative durations and unknown sessions', async () => {
      const id = await newSession();
      const events = new EventStore(store.db);
      await expect(events.record({ sessionId: id, kind: 'ToolCall' })).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
      await expect(events.record({ sessionId: id, kind: 'tool-call', durationMs: -1 })).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
      await expect(events.record({ sessionId: newSessionId(), kind: 'tool-call' })).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
    });

    it('runs payloads through the redactor before writing them', async () => {
      const id = await newSession();
      const events = new EventStore(store.db, { redact: (payload) => JSON.parse(JSON.stringify(payload).replaceAll('sk-secret', '…cret')) as unknown });
      const event = await events.record({ sessionId: id, kind: 'tool-call', payload: { command: 'echo sk-secret' } });
      expect(event.payload).toEqual({ command: 'echo …cret' });
    });
  });

  describe('vnc sessions', () => {
    it('opens, touches, lists and closes VNC connections', async () => {
      const id = await newSession();
      const vnc = new VncSessionStore(store.db);
      const opened = await vnc.open({ sessionId: id, containerId: 'c1', vncPort: 5905, cdpPort: 9230 });
      expect(opened).toMatchObject({ sessionId: id, status: 'active', closedAt: null });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await vnc.touch(opened.id);
      expect((await vnc.get(opened.id)).lastActivity.getTime()).toBeGreaterThan(opened.lastActivity.getTime());
      await vnc.open({ sessionId: id, containerId: 'c1', vncPort: 5905, cdpPort: 9230 });
      expect(await vnc.list({ sessionId: id, status: 'active' })).toHaveLength(2);
      await vnc.close(opened.id);
      expect((await vnc.get(opened.id)).status).toBe('closed');
      expect(await vnc.closeAll(id)).toBe(1);
      expect(await vnc.list({ sessionId: id, status: 'active' })).toHaveLength(0);
      await expect(vnc.touch(opened.id)).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
      await expect(vnc.open({ sessionId: newSessionId(), containerId: 'c1', vncPort: 5905, cdpPort: 9230 })).rejects.toSatisfy((error) => NexoraError.is(error, 'session-not-found'));
    });
  });
});

describe('opening a server', () => {
  it('fails clearly, without the password, when nothing answers or the URL is not PostgreSQL', async () => {
    const error = await openDatabase({ url: 'postgres://someone:hunter2-secret@127.0.0.1:1/nexora', env: {} }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'database-failed')).toBe(true);
    expect((error as Error).message).toMatch(/Could not reach PostgreSQL at postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nexora: .*server is running/);
    expect((error as Error).message).not.toContain('hunter2');
    await expect(openDatabase({ env: { DATABASE_URL: 'mysql://root:pw@localhost/db' } })).rejects.toSatisfy((caught) => NexoraError.is(caught, 'invalid-config'));
  });
});
