import type { ApprovalRequest, Approver } from '../../agent/approval.js';
import type { AgentEvent } from '../../agent/events.js';
import type { ApprovalMode } from '../../agent/approval-mode.js';
import type { NexoraClient } from '../../client/nexora-client.js';
import { environmentOf, streamedError } from '../../client/client-env.js';
import { NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import type { GitChangesReport } from '../../sessions/git-baselines.js';
import { describeGitChanges } from '../../sessions/git-report-text.js';
import { parseSessionId, type SessionId } from '../../store/session-id.js';
import type { TuiConversationSummary, TuiHost, TuiSessionSummary } from '../../tui/tui-host.js';
import { openInBrowser } from '../../viewer/open-browser.js';

interface SessionJson {
  id: string;
  status: string;
  model: string;
  workspaceDir: string | null;
  createdAt: string;
}

/**
 * The TUI's host as a client of the Nexora server: every task is a run in the server (streamed
 * back as typed events, approval questions answered here), and sessions, conversations, the
 * screen, screenshots and the web view are API calls. Tasks given in one TUI session form one
 * conversation: each run after the first carries the conversation of the session on.
 */
export class ServerTuiHost implements TuiHost {
  sessionId: SessionId | undefined;
  model: string | undefined;
  /** Set when the person quit and kept the session for a resume. */
  keptSessionId: SessionId | undefined;
  /** Whether the next run carries the session's conversation on (false for a session attached with --session or /sessions). */
  private continues = false;

  constructor(
    private readonly client: NexoraClient,
    private readonly options: { workspace: string; model: string | undefined; openBrowser: boolean; approve: ApprovalMode },
  ) {
    this.model = options.model;
  }

  /** Attaches to an active session first (`nexora --session ID`). */
  async open(sessionId: SessionId | undefined): Promise<void> {
    if (sessionId !== undefined) await this.resumeSession(sessionId);
  }

  async run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal; approver?: Approver }): Promise<void> {
    let runId: string | undefined;
    let failure: NexoraError | undefined;
    const asking = new AbortController();
    const interrupt = (): void => {
      if (runId) void this.client.post(`/v1/runs/${runId}/interrupt`).catch(() => undefined);
    };
    options.signal.addEventListener('abort', interrupt, { once: true });
    const body = {
      task,
      workspace: this.options.workspace,
      keep: true,
      approve: this.options.approve,
      events: true,
      env: environmentOf(),
      ...(this.model ? { model: this.model } : {}),
      ...(options.approver ? { interactive: true } : {}),
      // The first task in a session attached with --session starts its conversation there; later ones carry it on.
      ...(this.sessionId ? (this.continues ? { resume: this.sessionId } : { session: this.sessionId }) : {}),
    };
    try {
      await this.client.stream('POST', '/v1/runs', body, ({ event, data }) => {
        if (event === 'run') {
          runId = (data as { id: string }).id;
          if (options.signal.aborted) interrupt();
        } else if (event === 'agent') {
          const { sessionId, event: agentEvent } = data as { sessionId: string; event: AgentEvent };
          if (agentEvent.type === 'run-start') this.sessionId = parseSessionId(sessionId);
          options.onEvent(agentEvent);
        } else if (event === 'approval' && options.approver && runId) {
          const { id, ...question } = data as ApprovalRequest & { id: string };
          const run = runId;
          void options.approver(question, { signal: asking.signal })
            .then((decision) => this.client.post(`/v1/runs/${run}/approvals/${id}`, decision.approved ? { approved: true } : { approved: false, reason: decision.reason }))
            .catch(() => undefined);
        } else if (event === 'end') {
          this.sessionId = parseSessionId((data as { sessionId: string }).sessionId);
          this.continues = true;
        } else if (event === 'error') failure = streamedError(data);
      });
    } finally {
      asking.abort();
      options.signal.removeEventListener('abort', interrupt);
    }
    if (failure) throw failure;
  }

  async screenText(): Promise<string | undefined> {
    if (!this.sessionId) return undefined;
    return this.client
      .get<{ text: string }>(`/v1/sessions/${this.sessionId}/terminal?windowOnly=1`, { timeoutMs: 30_000 })
      .then((answer) => answer.text)
      .catch(() => undefined);
  }

  async listSessions(): Promise<TuiSessionSummary[]> {
    const { sessions } = await this.client.get<{ sessions: SessionJson[] }>('/v1/sessions');
    return sessions.map((session) => ({ id: session.id, status: session.status, model: session.model, workspaceDir: session.workspaceDir, createdAt: new Date(session.createdAt) }));
  }

  async resumeSession(sessionId: string): Promise<{ sessionId: string; model: string | undefined }> {
    const id = parseSessionId(sessionId);
    const resumed = await this.client.post<{ session: SessionJson }>(`/v1/sessions/${id}/resume`, {}, { timeoutMs: 180_000 });
    this.sessionId = id;
    this.continues = false;
    if (resumed.session.model !== 'none') this.model = resumed.session.model;
    return { sessionId: id, model: this.model };
  }

  async listConversations(): Promise<TuiConversationSummary[]> {
    const { conversations } = await this.client.get<{ conversations: (Omit<TuiConversationSummary, 'createdAt'> & { createdAt: string })[] }>(
      `/v1/conversations?workspace=${encodeURIComponent(this.options.workspace)}`,
    );
    return conversations.map((conversation) => ({ ...conversation, createdAt: new Date(conversation.createdAt) }));
  }

  async resumeConversation(id: string): Promise<{ sessionId: string; model: string | undefined; turns: number; sameWorkstation: boolean; totals: { usd: number; inputTokens: number; outputTokens: number } }> {
    const from = parseSessionId(id);
    const continued = await this.client.post<{ sessionId: string; model: string | null; turns: number; sameWorkstation: boolean; totals: { usd: number; inputTokens: number; outputTokens: number } }>(
      `/v1/conversations/${from}/continue`,
      this.model ? { model: this.model } : {},
      { timeoutMs: 180_000 },
    );
    this.sessionId = parseSessionId(continued.sessionId);
    this.continues = true;
    if (!this.model && continued.model) this.model = continued.model;
    return { sessionId: continued.sessionId, model: this.model, turns: continued.turns, sameWorkstation: continued.sameWorkstation, totals: continued.totals };
  }

  async listModels(): Promise<string[]> {
    return (await this.client.post<{ models: string[] }>('/v1/models', { workspace: this.options.workspace, env: environmentOf() })).models;
  }

  async setModel(model: string): Promise<string> {
    if (!/^[a-z0-9][a-z0-9._-]*\/.+$/.test(model)) throw new NexoraError('invalid-argument', `"${model}" is not a model: write provider/model, e.g. anthropic/claude-sonnet-4-5 (/model lists them).`);
    await this.client.post('/v1/models', { workspace: this.options.workspace, model, env: environmentOf() });
    this.model = model;
    return model;
  }

  async saveScreenshot(): Promise<string> {
    if (!this.sessionId) throw new NexoraError('workstation-not-ready', 'No session yet: give the agent a task first (or /sessions to resume one).');
    return (await this.client.post<{ path: string }>(`/v1/sessions/${this.sessionId}/screenshots`, {})).path;
  }

  async openView(): Promise<string> {
    const { url } = await this.client.get<{ url: string }>(`/v1/view${this.sessionId ? `?session=${this.sessionId}` : ''}`, { timeoutMs: 120_000 });
    if (this.options.openBrowser) await openInBrowser({ url, launcherDir: nexoraPaths().viewLaunchers });
    return url;
  }

  /** What the session changed in the workspace's git metadata, as a warning; empty when nothing. */
  async gitWarning(): Promise<string> {
    const sessionId = this.keptSessionId ?? this.sessionId;
    if (!sessionId) return '';
    const report = await this.client.get<GitChangesReport>(`/v1/sessions/${sessionId}/git-changes`).catch(() => undefined);
    if (!report) return '';
    return describeGitChanges(report.changes, { ...report, workspaceDir: this.options.workspace });
  }

  async quit(options: { keepSession: boolean }): Promise<void> {
    if (this.sessionId && !options.keepSession) await this.client.post(`/v1/sessions/${this.sessionId}/stop`, { reason: 'stopped from the TUI' }, { timeoutMs: 120_000 });
    if (this.sessionId && options.keepSession) this.keptSessionId = this.sessionId;
  }
}
