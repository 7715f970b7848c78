import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversationEntry } from '../agent/conversation.js';
import {
  conversationEventKinds,
  loadConversation,
  restoreEntries,
  type ConversationImages,
  type ConversationSource,
  type LoadedConversation,
} from '../agent/conversation-record.js';
import { sessionTotals, type SessionTotals } from '../agent/session-totals.js';
import { describeError, NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import type { SessionManager, StartedSession } from '../sessions/session-manager.js';
import { parseSessionId, type EventStore, type SessionId, type SessionStore } from '../store/index.js';

/** The events table as the agent's conversation loader reads it. */
export function conversationSource(events: EventStore): ConversationSource {
  return { events: (sessionId, kinds) => events.listAll(parseSessionId(sessionId), { kinds }) };
}

const imageRef = /^([A-Za-z0-9_-]{1,128})\/conversation-([a-f0-9]{64})\.png$/;

/**
 * A conversation's screenshots as files beside the session's other screenshots, named by
 * their hash (the same screen twice is one file).
 */
export function conversationImages(sessionId: SessionId, root = nexoraPaths().screenshots): ConversationImages {
  return {
    async save(png) {
      const hash = createHash('sha256').update(png).digest('hex');
      const dir = join(root, sessionId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, `conversation-${hash}.png`), png, { mode: 0o600, flag: 'w' });
      return `${sessionId}/conversation-${hash}.png`;
    },
    async load(ref) {
      // The reference comes from the store: it must name a file of this shape under the root.
      const match = imageRef.exec(ref);
      if (!match) return undefined;
      const png = await readFile(join(root, match[1] ?? '', `conversation-${match[2] ?? ''}.png`)).catch(() => undefined);
      return png && createHash('sha256').update(png).digest('hex') === match[2] ? png : undefined;
    },
  };
}

/** Totals (runs, tokens, money) over every session a conversation went through. */
export async function conversationTotals(events: EventStore, sessionId: SessionId): Promise<SessionTotals> {
  const loaded = await loadConversation({ sessionId, source: conversationSource(events) });
  return sessionTotals(loaded.runEnds);
}

/**
 * The conversation `--continue` (the newest one in this workspace) or `--resume ID` names.
 * Fails with a way forward when there is none.
 */
export async function findConversation(options: {
  events: EventStore;
  sessions: SessionStore;
  workspace: string;
  resume?: string | undefined;
}): Promise<SessionId> {
  if (options.resume !== undefined) {
    const sessionId = parseSessionId(options.resume);
    await options.sessions.get(sessionId);
    const found = await options.events.latestSessionWith(conversationEventKinds.append, [sessionId]);
    if (!found) {
      throw new NexoraError('session-not-found', `Session ${sessionId} has no recorded conversation to resume (the agent never ran in it, or it ran before conversations were kept). Start one with \`nexora run "task"\`.`);
    }
    return sessionId;
  }
  const inWorkspace = (await options.sessions.list({ limit: 1000 })).filter((session) => session.workspaceDir === options.workspace).map((session) => session.id);
  const found = await options.events.latestSessionWith(conversationEventKinds.append, inWorkspace);
  if (!found) throw new NexoraError('session-not-found', `There is no conversation to continue in ${options.workspace}: start one with \`nexora run "task"\`.`);
  return found.sessionId;
}

export interface ContinuedConversation {
  started: StartedSession;
  /** Whether the conversation's own workstation was resumed (else a new one was started). */
  sameWorkstation: boolean;
  history: ConversationEntry[];
  /** What the model is told with the next task. */
  resumeNote: string;
  loaded: LoadedConversation;
}

/**
 * Carries a conversation on: its workstation resumed when its session is still active, else
 * a new workstation on the same workspace (linked to the conversation by a
 * `conversation-continue` event); the turns restored from the store, screenshots by the
 * keep-last rule; and a note for the model saying whether the terminal's state survived.
 */
export async function continueConversation(options: {
  manager: SessionManager;
  events: EventStore;
  sessionId: SessionId;
  /** Where to start a new workstation when the old one is gone (default: the session's workspace). */
  workspace?: string;
  model?: string;
  provider?: string;
  keepImages: number;
  onProgress?: (step: string) => void;
}): Promise<ContinuedConversation> {
  const { manager, events, sessionId } = options;
  const loaded = await loadConversation({ sessionId, source: conversationSource(events) });
  const history = await restoreEntries(loaded.entries, { keepImages: options.keepImages, images: conversationImages(sessionId) });
  const session = await manager.sessions.get(sessionId);
  let started: StartedSession | undefined;
  let failure: string | undefined;
  if (session.status === 'active') {
    started = await manager.resume(sessionId, options.onProgress ? { onProgress: options.onProgress } : {}).catch((error: unknown) => {
      failure = describeError(error);
      return undefined;
    });
  }
  if (started) {
    const lastTurn = await events.latestSessionWith(conversationEventKinds.append, [sessionId]);
    const restarts = await events.list(sessionId, { kinds: ['workstation-restart'], afterId: lastTurn?.eventId ?? 0, limit: 100 });
    // Unpausing keeps every process; any other restart (by the health monitor or the resume) does not.
    const lost = restarts.some((event) => (event.payload as { from?: unknown }).from !== 'paused');
    return { started, sameWorkstation: true, history, loaded, resumeNote: lost ? lostNote('its workstation was restarted') : sameNote };
  }
  const workspace = options.workspace ?? session.workspaceDir;
  if (!workspace) throw new NexoraError('session-not-found', `Session ${sessionId} has no workspace on record, so its conversation cannot move to a new workstation.`);
  options.onProgress?.(`starting a new workstation for the conversation (${failure ?? `its session is ${session.status}`})`);
  const fresh = await manager.start({
    workspaceDir: workspace,
    ...(options.model ? { model: options.model } : {}),
    ...(options.provider ? { provider: options.provider } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  await events.record({ sessionId: fresh.session.id, kind: conversationEventKinds.continue, payload: { fromSessionId: sessionId, workstation: 'new' } });
  return { started: fresh, sameWorkstation: false, history, loaded, resumeNote: lostNote('it continues on a new workstation over the same workspace') };
}

const sameNote =
  '[Nexora: this conversation continues from an earlier run, on the same workstation. The screen and the files may have changed since; look before you act.]';

function lostNote(why: string): string {
  return `[Nexora: this conversation continues from an earlier run, but ${why}: the terminal's state was lost (programs that were running, open editors, shell history and what the screen showed are gone). The files in /workspace are as they are now. Look at the screen before relying on what you saw earlier.]`;
}

/** A conversation as the TUI's /resume lists it. */
export interface ConversationSummary {
  sessionId: SessionId;
  status: string;
  model: string;
  createdAt: Date;
  /** Its first task, for recognising it. */
  task: string;
}

/** The conversations recorded in a workspace, newest first (at most `limit`). */
export async function listConversations(options: { sessions: SessionStore; events: EventStore; workspace: string; limit?: number }): Promise<ConversationSummary[]> {
  const found: ConversationSummary[] = [];
  const limit = options.limit ?? 30;
  for (const session of await options.sessions.list({ limit: 200 })) {
    if (session.workspaceDir !== options.workspace || found.length >= limit) continue;
    const first = (await options.events.list(session.id, { kinds: [conversationEventKinds.append], limit: 1 }))[0];
    if (!first) continue;
    const payload = first.payload as { role?: unknown; text?: unknown };
    found.push({ sessionId: session.id, status: session.status, model: session.model, createdAt: session.createdAt, task: typeof payload.text === 'string' ? payload.text : '' });
  }
  return found;
}
