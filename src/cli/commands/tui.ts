import { describeGitChanges } from '../../sessions/git-metadata.js';
import type { Command } from 'commander';
import { render } from 'ink';
import { createElement } from 'react';
import { z } from 'zod';
import { startAgentRun } from '../../agent/agent-run.js';
import type { AgentEvent } from '../../agent/events.js';
import type { Approver } from '../../agent/approval.js';
import { approvalModes, type ApprovalMode } from '../../agent/approval-mode.js';
import { loadConfig } from '../../config/load-config.js';
import { checkWorkspace } from '../../config/workspace-guard.js';
import { NexoraError } from '../../errors.js';
import { nexoraPaths } from '../../paths.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { MasterKeyStore, ProviderKeyStore } from '../../secrets/index.js';
import type { OpenedSessionManager } from '../../sessions/open-session-manager.js';
import { parseSessionId, type Db, type SessionId } from '../../store/index.js';
import { connectTools, type ConnectedTools } from '../../tools/connect-tools.js';
import { encodePng } from '../../tools/png-encode.js';
import { App } from '../../tui/app.js';
import { colorEnabled } from '../../tui/theme.js';
import type { TuiConversationSummary, TuiHost, TuiSessionSummary } from '../../tui/tui-host.js';
import type { ConversationEntry } from '../../agent/conversation.js';
import { conversationEventKinds, loadConversation, restoreEntries } from '../../agent/conversation-record.js';
import { instructionsPrompt, loadInstructions } from '../../agent/project-instructions.js';
import { sessionTotals } from '../../agent/session-totals.js';
import { continueConversation, conversationImages, conversationSource } from './conversation-wiring.js';
import { InputGate } from '../../viewer/input-gate.js';
import { openInBrowser } from '../../viewer/open-browser.js';
import type { ScreenshotArchive } from '../../viewer/screenshot-archive.js';
import { agentLimits, agentTools, approvalGuard, recordInto, redactingEventStore, sessionScreenshotArchive } from './agent-wiring.js';
import { sessionViewerBackend } from '../../viewer/session-backend.js';
import { startViewerServer, type ViewerServer } from '../../viewer/viewer-server.js';
import type { Workstation } from '../../workstation/workstation.js';
import type { NexoraServer } from '../../server/nexora-server.js';
import { hostServerForTui } from './tui-server.js';
import { parseOptions } from './session.js';

const tuiOptions = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  workspace: z.string().min(1),
  session: z.string().optional(),
  open: z.boolean().optional(),
  approve: z.enum(approvalModes).optional(),
});
type TuiOptions = z.infer<typeof tuiOptions>;

/** `nexora` with no command (or `nexora tui`): the interactive terminal UI. */
export function registerTuiCommand(program: Command): void {
  program
    .command('tui', { isDefault: true })
    .description('the interactive terminal UI (what `nexora` with no command opens)')
    .option('--model <provider/model>', 'the model to start with (default: "model" in nexora.json)')
    .option('--workspace <dir>', 'the project directory (default: the current directory)', process.cwd())
    .option('--session <id>', 'resume an active session instead of starting a new one on the first task')
    .option('--no-open', 'print the web view address for /view instead of opening a browser')
    .option('--approve <mode>', `which commands need your yes first: ${approvalModes.join(', ')} (default: agent.approve in the config, else risky)`)
    .action(async (raw: unknown) => {
      const options = parseOptions(tuiOptions, raw);
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new NexoraError('invalid-argument', 'The interactive UI needs a terminal. In scripts and pipes, use `nexora run "task"`.');
      }
      await runTui(options);
    });
}

async function runTui(options: TuiOptions): Promise<void> {
  const workspace = checkWorkspace(options.workspace);
  const { config } = await loadConfig({ workspace });
  const server = await hostServerForTui({ onNote: (line) => process.stderr.write(`nexora: ${line}\n`) });
  const host = new CliTuiHost({ server, db: server.db, workspace, config, model: options.model ?? config.model, openBrowser: options.open !== false, approve: options.approve ?? config.agent.approve });
  try {
    await host.open(options.session !== undefined ? parseSessionId(options.session) : undefined);
    const app = render(createElement(App, { host, color: colorEnabled(), ...(host.sessionId ? { sessionId: host.sessionId } : {}), ...(host.model ? { model: host.model } : {}) }), {
      exitOnCtrlC: false,
    });
    await app.waitUntilExit();
    const gitWarning = await host.gitWarning();
    if (gitWarning) process.stdout.write(`${gitWarning}\n`);
    if (host.keptSessionId) process.stdout.write(`Session ${host.keptSessionId} is still running: continue with \`nexora --session ${host.keptSessionId}\` (or stop it with \`nexora session stop ${host.keptSessionId}\`).\n`);
  } finally {
    await host.close();
  }
}

type Config = Awaited<ReturnType<typeof loadConfig>>['config'];

/** The TUI's host over the real session manager, agent loop and web view. */
class CliTuiHost implements TuiHost {
  sessionId: SessionId | undefined;
  model: string | undefined;
  /** Set when the person quit and kept the session for a resume. */
  keptSessionId: SessionId | undefined;
  private manager: OpenedSessionManager | undefined;
  private connected: ConnectedTools | undefined;
  private archive: ScreenshotArchive | undefined;
  private readonly gates = new Map<string, InputGate>();
  private viewer: ViewerServer | undefined;
  private readonly registry: ProviderRegistry;
  /** Set by /resume: the restored turns and the note for the next task. */
  private pendingConversation: { history: ConversationEntry[]; resumeNote: string } | undefined;

  constructor(private readonly options: { server: NexoraServer; db: Db; workspace: string; config: Config; model: string | undefined; openBrowser: boolean; approve: ApprovalMode }) {
    this.model = options.model;
    const keys = new ProviderKeyStore({ db: options.db, masterKeys: new MasterKeyStore(nexoraPaths()) });
    this.registry = new ProviderRegistry({ providers: options.config.providers, models: options.config.models, keys });
  }

  async open(sessionId: SessionId | undefined): Promise<void> {
    // The server's runtime: reconciled as it opened, with its health monitor and warm pool.
    this.manager = await this.options.server.sessions();
    if (sessionId !== undefined) await this.attach(sessionId);
  }

  private get sessions(): OpenedSessionManager['manager'] {
    if (!this.manager) throw new NexoraError('invalid-argument', 'The session store is not open.');
    return this.manager.manager;
  }

  private gateFor(sessionId: string): InputGate {
    let gate = this.gates.get(sessionId);
    if (!gate) this.gates.set(sessionId, (gate = new InputGate()));
    return gate;
  }

  private async attach(sessionId: SessionId, workstation?: Workstation): Promise<void> {
    this.connected?.close();
    this.connected = undefined;
    const started = workstation ?? (await this.sessions.resume(sessionId)).workstation;
    this.sessionId = sessionId;
    this.connected = await connectTools(started);
    const events = this.sessions.events;
    this.archive = sessionScreenshotArchive(events, sessionId);
  }

  async run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal; approver?: Approver }): Promise<void> {
    const config = this.options.config;
    const candidates = await this.registry.candidates({
      strategy: this.model ? 'explicit' : config.routing.strategy,
      ...(this.model !== undefined ? { model: this.model } : {}),
      fallbacks: config.routing.fallbacks,
      needs: { tools: true, vision: config.routing.requireVision },
    });
    const first = candidates[0];
    if (!first) throw new NexoraError('provider-unavailable', this.registry.noProviderMessage());
    if (!this.sessionId) {
      const started = await this.sessions.start({ workspaceDir: this.options.workspace, model: first.info.ref, provider: first.info.provider });
      await this.attach(started.session.id, started.workstation);
    }
    const sessionId = this.sessionId;
    const connected = this.connected;
    if (!sessionId || !connected || !this.archive) throw new NexoraError('workstation-not-ready', 'No workstation is connected.');
    const events = await redactingEventStore(this.options.db, this.registry, candidates);
    const limits = agentLimits(config.agent);
    // Tasks in one session are one conversation: each carries on from the turns before it.
    const pending = this.pendingConversation;
    this.pendingConversation = undefined;
    const history = pending?.history ?? (await restoreEntries((await loadConversation({ sessionId, source: conversationSource(events) })).entries, { keepImages: limits.keepImages, images: conversationImages(sessionId) }));
    const instructions = instructionsPrompt(await loadInstructions({ workspace: this.options.workspace, userFile: nexoraPaths().userInstructions }));
    const run = startAgentRun({
      sessionId,
      task,
      tools: agentTools(connected.tools, this.gateFor(sessionId), this.archive),
      candidates,
      retry: config.retry,
      ...limits,
      approval: approvalGuard({ mode: this.options.approve, approver: options.approver, events, sessionId }),
      ...(instructions ? { instructions } : {}),
      ...(history.length > 0 ? { history } : {}),
      ...(pending ? { resumeNote: pending.resumeNote } : {}),
      images: conversationImages(sessionId),
      record: recordInto(events, this.sessions.sessions, sessionId),
      signal: options.signal,
    });
    // The loop emits run-start before startAgentRun returns: replay what came before subscribing.
    for (const event of run.events.events) options.onEvent(event);
    run.events.subscribe(options.onEvent);
    await run.result;
  }

  async screenText(): Promise<string | undefined> {
    // The session's tmux control client answers in about a millisecond; a docker exec per look would cost tens.
    return this.connected?.tools.terminalText({ windowOnly: true }).catch(() => undefined);
  }

  async listSessions(): Promise<TuiSessionSummary[]> {
    return (await this.sessions.list()).map(({ session }) => ({
      id: session.id,
      status: session.status,
      model: session.model,
      workspaceDir: session.workspaceDir,
      createdAt: session.createdAt,
    }));
  }

  async resumeSession(sessionId: string): Promise<{ sessionId: string; model: string | undefined }> {
    const id = parseSessionId(sessionId);
    await this.attach(id);
    const session = await this.sessions.sessions.get(id);
    if (session.model !== 'none') this.model = session.model;
    return { sessionId: id, model: this.model };
  }

  async listConversations(): Promise<TuiConversationSummary[]> {
    const events = this.sessions.events;
    const found: TuiConversationSummary[] = [];
    for (const session of await this.sessions.sessions.list({ limit: 200 })) {
      if (session.workspaceDir !== this.options.workspace || found.length >= 30) continue;
      const first = (await events.list(session.id, { kinds: [conversationEventKinds.append], limit: 1 }))[0];
      if (!first) continue;
      const payload = first.payload as { role?: unknown; text?: unknown };
      found.push({ sessionId: session.id, status: session.status, model: session.model, createdAt: session.createdAt, task: typeof payload.text === 'string' ? payload.text : '' });
    }
    return found;
  }

  async resumeConversation(id: string): Promise<{ sessionId: string; model: string | undefined; turns: number; sameWorkstation: boolean; totals: { usd: number; inputTokens: number; outputTokens: number } }> {
    const from = parseSessionId(id);
    const session = await this.sessions.sessions.get(from);
    if (session.model !== 'none' && !this.model) this.model = session.model;
    const continued = await continueConversation({
      manager: this.sessions,
      events: this.sessions.events,
      sessionId: from,
      ...(this.model ? { model: this.model, provider: this.model.split('/')[0] ?? 'none' } : {}),
      keepImages: agentLimits(this.options.config.agent).keepImages,
    });
    await this.attach(continued.started.session.id, continued.started.workstation);
    this.pendingConversation = { history: continued.history, resumeNote: continued.resumeNote };
    const { cost } = sessionTotals(continued.loaded.runEnds);
    return {
      sessionId: continued.started.session.id,
      model: this.model,
      turns: continued.history.length,
      sameWorkstation: continued.sameWorkstation,
      totals: { usd: cost.usd, inputTokens: cost.inputTokens, outputTokens: cost.outputTokens },
    };
  }

  async listModels(): Promise<string[]> {
    return (await this.registry.availableModels()).map((model) => model.ref);
  }

  async setModel(model: string): Promise<string> {
    const parsed = tuiOptions.shape.model.safeParse(model);
    if (!parsed.success || parsed.data === undefined) throw new NexoraError('invalid-argument', `"${model}" is not a model: write provider/model, e.g. anthropic/claude-sonnet-4-5 (/model lists them).`);
    await this.registry.resolve(parsed.data);
    this.model = parsed.data;
    return parsed.data;
  }

  async saveScreenshot(): Promise<string> {
    const connected = this.connected;
    if (!connected || !this.archive) throw new NexoraError('workstation-not-ready', 'No session yet: give the agent a task first (or /sessions to resume one).');
    const { rfb } = connected;
    const saved = await this.archive.save(encodePng(rfb.framebuffer, rfb.width, rfb.height), { width: rfb.width, height: rfb.height }, { force: true });
    return saved.path;
  }

  async openView(): Promise<string> {
    this.viewer ??= await startViewerServer({
      backend: sessionViewerBackend(this.sessions, { screenshotsRoot: nexoraPaths().screenshots }),
      gateFor: (sessionId) => this.gateFor(sessionId),
      recordTypedText: this.options.config.viewer.recordTypedText,
    });
    const url = this.sessionId ? this.viewer.sessionUrl(this.sessionId) : this.viewer.url;
    if (this.options.openBrowser) await openInBrowser({ url, launcherDir: nexoraPaths().viewLaunchers });
    return url;
  }

  /** What the session changed in the workspace's git metadata, as a warning; empty when nothing. */
  async gitWarning(): Promise<string> {
    const sessionId = this.keptSessionId ?? this.sessionId;
    if (!sessionId) return '';
    const report = await this.sessions.gitChanges(sessionId).catch(() => undefined);
    if (!report || (report.changes.length === 0 && !report.incomplete)) return '';
    return describeGitChanges(report.changes, { incomplete: report.incomplete, workspaceDir: this.options.workspace });
  }

  async quit(options: { keepSession: boolean }): Promise<void> {
    if (this.sessionId && !options.keepSession) await this.sessions.stopContainer(this.sessionId, { reason: 'stopped from the TUI' });
    if (this.sessionId && options.keepSession) this.keptSessionId = this.sessionId;
  }

  async close(): Promise<void> {
    this.connected?.close();
    await this.viewer?.close();
    // Sessions keep running; the store, channels and API close with the server.
    await this.options.server.close({ reason: 'the TUI ended' });
  }
}
