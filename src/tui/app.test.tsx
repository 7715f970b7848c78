// @jsxRuntime automatic
// @jsxImportSource react
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalDecision, Approver } from '../agent/approval.js';
import type { AgentEvent } from '../agent/events.js';
import { App } from './app.js';
import { editPrompt } from './prompt-input.js';
import { parseSlashCommand } from './slash-commands.js';
import type { TuiHost, TuiSessionSummary } from './tui-host.js';
import { initialTuiState, reduceTui, sessionTotals } from './tui-state.js';

/**
 * The Ink components rendered by ink-testing-library. The host here is an in-test stand-in
 * for the CLI's wiring (sessions, agent, web view), which test/tui-terminal.test.ts drives for
 * real in tmux.
 */
const cost = (usd: number, inputTokens = 1200, outputTokens = 80) => ({ inputTokens, outputTokens, cachedInputTokens: 0, usd });

function scriptedRun(sessionId: string): AgentEvent[] {
  return [
    { type: 'run-start', sessionId, task: 'run the tests', candidates: ['anthropic/test-model'], maxSteps: 10, maxCostUsd: undefined },
    { type: 'step-start', step: 1, model: 'anthropic/test-model' },
    { type: 'text-delta', step: 1, text: 'Running ' },
    { type: 'text-delta', step: 1, text: 'the tests now.' },
    { type: 'tool-call-start', step: 1, toolCallId: 't1', toolName: 'execute', input: { command: 'npm test' } },
    { type: 'tool-call-end', step: 1, toolCallId: 't1', toolName: 'execute', summary: 'exit code 0 after 812 ms', isError: false, durationMs: 815, imageSent: false },
    { type: 'step-end', step: 1, model: 'anthropic/test-model', text: 'Running the tests now.', toolCalls: 1, finishReason: 'tool-calls', cost: cost(0.0048), sessionCost: cost(0.0048), durationMs: 900 },
    { type: 'step-start', step: 2, model: 'anthropic/test-model' },
    { type: 'text-delta', step: 2, text: 'All tests pass.' },
    { type: 'step-end', step: 2, model: 'anthropic/test-model', text: 'All tests pass.', toolCalls: 0, finishReason: 'stop', cost: cost(0.002, 1300, 20), sessionCost: cost(0.0068, 2500, 100), durationMs: 400 },
    { type: 'run-end', outcome: 'completed', reason: 'The model reported the task done.', steps: 2, durationMs: 1400, cost: cost(0.0068, 2500, 100), finalText: 'All tests pass.' },
  ];
}

class ScriptedHost implements TuiHost {
  readonly tasks: string[] = [];
  readonly quits: boolean[] = [];
  readonly signals: AbortSignal[] = [];
  model = 'anthropic/test-model';
  sessionId = 'ses_testtesttesttesttest';
  hold = false;

  async run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal }): Promise<void> {
    this.tasks.push(task);
    this.signals.push(options.signal);
    const events = scriptedRun(this.sessionId);
    if (this.hold) {
      for (const event of events.slice(0, 5)) options.onEvent(event);
      await new Promise<void>((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
      options.onEvent({ type: 'run-end', outcome: 'interrupted', reason: 'Interrupted by the user.', steps: 1, durationMs: 10, cost: cost(0), finalText: '' });
      return;
    }
    for (const event of events) options.onEvent(event);
  }
  screenText(): Promise<string> {
    return Promise.resolve('user@nexora:/workspace$ npm test\n\n> 3 passing\nuser@nexora:/workspace$ \n\n\n');
  }
  listSessions(): Promise<TuiSessionSummary[]> {
    return Promise.resolve([
      { id: this.sessionId, status: 'active', model: this.model, workspaceDir: '/tmp/a', createdAt: new Date() },
      { id: 'ses_otherotherotherother', status: 'active', model: 'openai/gpt-x', workspaceDir: '/tmp/b', createdAt: new Date() },
    ]);
  }
  resumeSession(sessionId: string): Promise<{ sessionId: string; model: string | undefined }> {
    this.sessionId = sessionId;
    return Promise.resolve({ sessionId, model: 'openai/gpt-x' });
  }
  listModels(): Promise<string[]> {
    return Promise.resolve(['anthropic/test-model', 'openai/gpt-x']);
  }
  setModel(model: string): Promise<string> {
    if (!model.includes('/')) return Promise.reject(new Error(`"${model}" is not provider/model`));
    this.model = model;
    return Promise.resolve(model);
  }
  saveScreenshot(): Promise<string> {
    return Promise.resolve('/home/me/.nexora/screenshots/ses_x/now.png');
  }
  openView(): Promise<string> {
    return Promise.resolve('http://127.0.0.1:4567/t/token/');
  }
  quit(options: { keepSession: boolean }): Promise<void> {
    this.quits.push(options.keepSession);
    return Promise.resolve();
  }
}

const tick = (ms = 80) => new Promise((resolve) => setTimeout(resolve, ms));
const mounted: { unmount(): void }[] = [];
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount();
});

function mount(host: ScriptedHost, size: { columns: number; rows: number } = { columns: 80, rows: 24 }) {
  const app = render(<App host={host} sessionId={host.sessionId} model={host.model} color={false} columns={size.columns} rows={size.rows} />);
  mounted.push(app);
  return app;
}

async function type(app: ReturnType<typeof mount>, text: string): Promise<void> {
  app.stdin.write(text);
  await tick();
}

describe('TUI state', () => {
  it('builds the transcript and totals from agent events', () => {
    let state = initialTuiState();
    for (const event of scriptedRun('ses_a')) state = reduceTui(state, { type: 'agent', event });
    expect(state.entries.map((entry) => entry.kind)).toEqual(['assistant', 'tool', 'assistant', 'notice']);
    expect(state.entries[0]).toMatchObject({ text: 'Running the tests now.' });
    expect(state.entries[1]).toMatchObject({ status: 'done', summary: 'exit code 0 after 812 ms', durationMs: 815 });
    expect(state).toMatchObject({ sessionId: 'ses_a', step: 2, running: false });
    for (const event of scriptedRun('ses_a')) state = reduceTui(state, { type: 'agent', event });
    expect(sessionTotals(state)).toEqual({ usd: 0.0136, inputTokens: 5000, outputTokens: 200 });
  });

  it('edits a multi-line prompt and parses slash commands', () => {
    const keys = { return: false, meta: false, backspace: false, delete: false, ctrl: false };
    expect(editPrompt('line one\\', '', { ...keys, return: true })).toEqual({ value: 'line one\n', submit: false });
    expect(editPrompt('a', '', { ...keys, return: true, meta: true })).toEqual({ value: 'a\n', submit: false });
    expect(editPrompt('abc', '', { ...keys, return: true })).toEqual({ value: 'abc', submit: true });
    expect(editPrompt('héé', '', { ...keys, backspace: true }).value).toBe('hé');
    expect(editPrompt('x', 'pasted\r\nlines', keys).value).toBe('xpasted\nlines');
    expect(parseSlashCommand('/sessions 2')).toEqual({ name: 'sessions', argument: '2' });
    expect(parseSlashCommand('/resume ses_x')).toEqual({ name: 'resume', argument: 'ses_x' });
    expect(parseSlashCommand('/frobnicate')).toEqual({ name: 'unknown', argument: 'frobnicate' });
    expect(parseSlashCommand('fix /etc/hosts')).toBeUndefined();
  });
});

describe('TUI app', () => {
  it('runs a typed task: streamed text, a compact tool line, the terminal pane and the status line', async () => {
    const host = new ScriptedHost();
    const app = mount(host);
    await tick();
    await type(app, 'run the tests');
    await type(app, '\r');
    await tick(100);
    const frame = app.lastFrame() ?? '';
    expect(host.tasks).toEqual(['run the tests']);
    expect(frame).toContain('› run the tests');
    expect(frame).toContain('Running the tests now.');
    expect(frame).toMatch(/✓ execute "npm test" +exit code 0 after 812 ms +815ms/);
    expect(frame).toContain('All tests pass.');
    expect(frame).toContain('✓ completed');
    expect(frame).toContain('> 3 passing');
    expect(frame).toMatch(/ses_testtes… │ anthropic\/test-mo… │ step 2 │ 1\.4s │ 2\.6k tok │ \$0\.0068 │ ready/);
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(frame).not.toContain('\u001b[');

    // Ctrl+O expands tool calls to their arguments.
    await type(app, '\x0f');
    expect(app.lastFrame()).toContain('args: {"command":"npm test"}');
  });

  it('takes multi-line input and interrupts a running step with Esc', async () => {
    const host = new ScriptedHost();
    host.hold = true;
    const app = mount(host);
    await tick();
    await type(app, 'first line\\');
    await type(app, '\r');
    await type(app, 'second line');
    await type(app, '\r');
    await tick(50);
    expect(host.tasks).toEqual(['first line\nsecond line']);
    expect(app.lastFrame()).toContain('… execute "npm test"');
    expect(app.lastFrame()).toMatch(/step 1 │ \d+ms │ 0 tok │ \$0\.00 │ running/);
    await type(app, '\x1b');
    await tick(100);
    expect(host.signals[0]?.aborted).toBe(true);
    expect(app.lastFrame()).toContain('✗ interrupted');
  });

  it('answers the slash commands', async () => {
    const host = new ScriptedHost();
    const app = mount(host, { columns: 100, rows: 40 });
    await tick();
    for (const command of ['/help', '/screen', '/view', '/model', '/model openai/gpt-x', '/cost', '/sessions', '/frob']) {
      await type(app, command);
      await type(app, '\r');
    }
    await tick(50);
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('screenshot saved: /home/me/.nexora/screenshots/ses_x/now.png');
    expect(frame).toContain('web view: http://127.0.0.1:4567/t/token/');
    expect(frame).toContain('model for the next task: openai/gpt-x');
    expect(frame).toContain('1. ses_testtesttesttesttest active');
    expect(frame).toContain('Unknown command /frob');
    expect(frame).toMatch(/session ses_testtesttesttesttest: 0 tokens in/);
    await type(app, '/sessions 2');
    await type(app, '\r');
    await tick(50);
    expect(host.sessionId).toBe('ses_otherotherotherother');
    expect(app.lastFrame()).toContain('resumed session ses_otherotherotherother');
    expect(app.lastFrame()).toMatch(/ses_otherotherotherother │ openai\/gpt-x │/);
  });

  it('lists conversations with /resume and carries one on with its totals', async () => {
    const host = new ScriptedHost();
    const resumed: string[] = [];
    const withConversations = Object.assign(host, {
      listConversations: () =>
        Promise.resolve([{ sessionId: 'ses_convconvconvconvconv', status: 'ended', model: 'anthropic/test-model', createdAt: new Date('2026-11-28T10:00:00Z'), task: 'fix the flaky test' }]),
      resumeConversation: (sessionId: string) => {
        resumed.push(sessionId);
        return Promise.resolve({ sessionId: 'ses_newnewnewnewnewnewne', model: 'anthropic/test-model', turns: 7, sameWorkstation: false, totals: { usd: 0.5, inputTokens: 12_000, outputTokens: 300 } });
      },
    });
    const app = mount(withConversations, { columns: 100, rows: 30 });
    await tick();
    await type(app, '/resume');
    await type(app, '\r');
    await tick(50);
    expect(app.lastFrame()).toContain('1. ses_convconvconvconvconv ended    2026-11-28 10:00 fix the flaky test');
    await type(app, '/resume 1');
    await type(app, '\r');
    await tick(50);
    expect(resumed).toEqual(['ses_convconvconvconvconv']);
    expect(app.lastFrame()).toContain('7 turns restored, on a new workstation');
    expect(app.lastFrame()).toContain("(the terminal's state was lost)");
    await type(app, '/cost');
    await type(app, '\r');
    await tick(50);
    expect(app.lastFrame()).toMatch(/session ses_newnewnewnewnewnewne: 12(\.0)?k tokens in .*\$0\.50/);
  });

  it('scrolls the transcript with PgUp and PgDn', async () => {
    const host = new ScriptedHost();
    const app = mount(host, { columns: 80, rows: 24 });
    await tick();
    for (let index = 1; index <= 30; index++) {
      await type(app, `/model bad-${index}`);
      await type(app, '\r');
    }
    await tick(100);
    expect(app.lastFrame()).toContain('"bad-30" is not provider/model');
    await type(app, '\u001b[5~');
    await tick(100);
    const scrolled = app.lastFrame() ?? '';
    expect(scrolled).not.toContain('"bad-30" is not provider/model');
    expect(scrolled).toContain('"bad-27" is not provider/model');
    expect(scrolled).toContain('↓ 3 newer (PgDn)');
    await type(app, '\u001b[6~');
    await tick(100);
    expect(app.lastFrame()).toContain('"bad-30" is not provider/model');
  });

  it('asks on quit whether to keep the session', async () => {
    const host = new ScriptedHost();
    const app = mount(host);
    await tick();
    await type(app, '\x03');
    expect(app.lastFrame()).toContain('Quit: [k]eep the session for a resume, [s]top it, [c]ancel');
    await type(app, 'c');
    expect(app.lastFrame()).not.toContain('Quit:');
    await type(app, '/quit');
    await type(app, '\r');
    await type(app, 's');
    await tick();
    expect(host.quits).toEqual([false]);
  });

  it('degrades in a narrow, short terminal: no pane, compact status, nothing wider than the screen', async () => {
    const host = new ScriptedHost();
    const app = mount(host, { columns: 40, rows: 12 });
    await tick();
    await type(app, 'run the tests');
    await type(app, '\r');
    await tick(100);
    const frame = app.lastFrame() ?? '';
    expect(frame).not.toContain('> 3 passing');
    expect(frame).toMatch(/s2 │ 1\.4s │ \$0\.0068 │ ready/);
    expect(frame).toContain('✓ execute "npm test"');
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(12);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
  });
});

describe('TUI approval prompt', () => {
  /** A host whose run asks for approval of one command and reports the answer. */
  class AskingHost extends ScriptedHost {
    readonly decisions: ApprovalDecision[] = [];
    override async run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal; approver?: Approver }): Promise<void> {
      this.tasks.push(task);
      const approver = options.approver;
      if (!approver) throw new Error('the TUI gave the host no approver');
      this.decisions.push(await approver({ tool: 'execute', command: 'git push --force', reasons: ['force-pushes or deletes on the remote'] }, { signal: options.signal }));
    }
  }

  it.each([
    ['y', { approved: true }],
    ['n', { approved: false, reason: 'the person answered no' }],
  ] as const)('shows the command and why, and answers %s', async (key, decision) => {
    const host = new AskingHost();
    const app = mount(host);
    await tick();
    await type(app, 'push it');
    await type(app, '\r');
    await tick(100);
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('The agent wants to run:\n  «git push --force»');
    expect(frame).toContain('because it force-pushes or deletes on the remote');
    expect(frame).toContain('Allow it? [y]es, [n]o');
    expect(host.decisions).toEqual([]);
    await type(app, key);
    await tick(100);
    expect(host.decisions).toEqual([decision]);
    expect(app.lastFrame() ?? '').not.toContain('Allow it?');
  });
});

describe('TUI with hostile text', () => {
  const hostile = 'rm -rf ~ #\r\x1b[2K    npm test \x1b]52;c;Y2xpcA==\x07 \x1b]8;;http://127.0.0.1:9/x\x1b\\link\x1b]8;;\x1b\\ \x1b[2J \u009b31m \u202eevil\u202c';
  /** Model text, tool calls, the screen and an approval question, each carrying escape sequences. */
  class HostileHost extends ScriptedHost {
    override async run(task: string, options: { onEvent: (event: AgentEvent) => void; signal: AbortSignal; approver?: Approver }): Promise<void> {
      this.tasks.push(task);
      options.onEvent({ type: 'step-start', step: 1, model: 'anthropic/test-model' });
      options.onEvent({ type: 'text-delta', step: 1, text: `Said: ${hostile}` });
      options.onEvent({ type: 'tool-call-start', step: 1, toolCallId: 't1', toolName: 'execute', input: { command: hostile } });
      options.onEvent({ type: 'tool-call-end', step: 1, toolCallId: 't1', toolName: 'execute', summary: `failed: ${hostile}`, isError: true, durationMs: 5, imageSent: false });
      await options.approver?.({ tool: 'execute', command: hostile, reasons: ['deletes files outside /workspace'] }, { signal: options.signal });
    }
    override screenText(): Promise<string> {
      return Promise.resolve(`user@nexora:/workspace$ cat notes\n${hostile}\n`);
    }
  }

  it('shows every control character as a visible character and writes none of them', async () => {
    const host = new HostileHost();
    const app = render(<App host={host} sessionId={host.sessionId} model={host.model} color={false} columns={200} rows={40} />);
    mounted.push(app);
    await tick();
    await type(app, 'read the notes');
    await type(app, '\r');
    await tick(150);
    const frame = app.lastFrame() ?? '';
    // The transcript, the tool line, the screen pane and the question each show it.
    expect(frame).toContain('Said: rm -rf ~ #␍␛[2K    npm test ␛]52;c;Y2xpcA==␇');
    expect(frame).toContain('«rm -rf ~ #␍␛[2K    npm test ␛]52;c;Y2xpcA==␇ ␛]8;;http://127.0.0.1:9/x␛\\link␛]8;;␛\\ ␛[2J <U+009B>31m <U+202E>evil<U+202C>»');
    expect(frame).toContain('characters a terminal would act on or hide');
    expect(frame.split('\n').filter((line) => line.includes('␛]52;c;Y2xpcA==␇')).length).toBeGreaterThanOrEqual(4);
    // Colour is off: any ESC, BEL or C1 in the whole output would have come from the hostile text.
    // eslint-disable-next-line no-control-regex -- looking for the very characters the rule warns about
    for (const written of app.frames) expect(written).not.toMatch(/[\u0007\u001b\u0080-\u009f\u202a-\u202e]/);
  });
});
