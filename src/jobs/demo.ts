import { chownSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { checkWorkspace } from '../config/workspace-guard.js';
import { join, resolve } from 'node:path';
import { NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { readFileUnder } from '../safe-file/index.js';
import type { OpenedSessionManager } from '../sessions/open-session-manager.js';
import type { SessionId } from '../store/index.js';
import { connectTools } from '../tools/connect-tools.js';
import type { ScreenResult, VisualTools } from '../tools/types.js';
import { ApprovalGuard, type Approver } from '../agent/approval.js';
import { replaySteps } from '../agent/replay.js';
import { loadConfig } from '../config/load-config.js';
import { scriptSteps } from '../agent/replay-script.js';
import { formatDuration } from '../output/format.js';
import { StepPrinter } from '../output/step-printer.js';
import { printReplayStep, replayNoApprover } from './replay.js';
import { readReplayScript } from './replay-script-file.js';

/** The seed's "Typical Workflow Example": the file before and after the edit. */
export const demoMainGo = `package main

import "fmt"

func process_data(input string) string {
    return fmt.Sprintf("processed: %s", input)
}

func main() {
    result := process_data("test")
    fmt.Println(result)
}
`;

export const demoMainGoEdited = demoMainGo.replace(
  '    return fmt.Sprintf',
  '    if input == "" {\n        return "error: empty input"\n    }\n    return fmt.Sprintf',
);

export interface DemoOptions {
  workspace?: string;
  out?: string;
  keep?: boolean;
  quick?: boolean;
  script?: string;
}

/** What a demo runs with: in the server, its session manager and the client's output stream. */
export interface DemoContext {
  stdout: NodeJS.WritableStream;
  openManager: () => Promise<OpenedSessionManager>;
  /** Who answers a script's approval questions (none: what needs a yes is refused). */
  approver?: Approver;
}

function showScreen(printer: StepPrinter, screen: ScreenResult, rows = 8): void {
  // The lines up to the cursor: below it are the window's empty rows and tmux's status line.
  const end = screen.cursor.row + 1;
  const lines = screen.text.split('\n').slice(0, end);
  const changed = screen.changes.changedLines.filter((line) => line.row < end);
  const shown = screen.changes.firstLook || changed.length === 0 ? lines.slice(-rows) : changed.slice(-rows).map((line) => line.text);
  for (const line of shown) printer.info(`    │ ${line}`);
}

function prepareWorkspace(requested: string | undefined): string {
  if (requested) return checkWorkspace(requested);
  const base = join(nexoraPaths().home, 'demo');
  mkdirSync(base, { recursive: true });
  const workspace = mkdtempSync(join(base, 'workspace-'));
  // Workstations never run as root: a root user's demo workspace goes to uid 1000.
  if (process.getuid?.() === 0) chownSync(workspace, 1000, 1000);
  return workspace;
}

/** The body of `nexora demo` (the seed's workflow, or a script): its exit status. */
export async function demoJob(options: DemoOptions, context: DemoContext): Promise<number> {
  if (options.script !== undefined) return (await runScript({ ...options, script: options.script }, context)) > 0 ? 1 : 0;
  await runDemo(options, context);
  return 0;
}

async function runDemo(options: DemoOptions, context: DemoContext): Promise<void> {
  const printer = new StepPrinter(context.stdout);
  printer.info('Nexora demo — a scripted demonstration of the visual terminal tools; no language model is involved.\n');
  const workspace = prepareWorkspace(options.workspace);
  const outDir = resolve(options.out ?? join(nexoraPaths().screenshots, `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(outDir, { recursive: true });
  let shot = 0;
  const save = (screen: ScreenResult, name: string): string => {
    if (!screen.png) throw new NexoraError('workstation-failed', 'the screen came back without an image');
    const path = join(outDir, `${String(++shot).padStart(2, '0')}-${name}.png`);
    writeFileSync(path, screen.png);
    return path;
  };

  const opened = await printer.step('Open the session store and the Docker engine', () => context.openManager());
  let stopped = false;
  let sessionId: SessionId | undefined;
  try {
    const started = await printer.step(
      `Start a workstation for ${workspace}`,
      () => opened.manager.start({ workspaceDir: workspace, onProgress: (step) => printer.progress(step) }),
      (value) => `session ${value.session.id}, ${value.fromPool ? 'from the warm pool' : 'cold start'}, VNC 127.0.0.1:${value.info.vncPort}`,
    );
    sessionId = started.session.id;
    const connected = await printer.step('Connect: one RFB connection, a tmux control client, a command server', () => connectTools(started.workstation));
    try {
      const tools = connected.tools;
      await greet(printer, tools, save);
      if (!options.quick) await seedWorkflow(printer, tools, save, workspace);
    } finally {
      connected.close();
    }
    if (!options.keep) {
      await printer.step('Stop the session and remove its workstation', () => opened.manager.stopContainer(started.session.id, { reason: 'demo finished' }));
      stopped = true;
    }
    printer.info(`\nScreenshots: ${outDir}`);
    printer.info(`Workspace:   ${workspace}`);
    if (options.keep) printer.info(`Session ${started.session.id} is still running: \`nexora session info ${started.session.id}\`, \`nexora session stop ${started.session.id}\`.`);
    printer.info(`Done in ${formatDuration(printer.elapsedMs())}.`);
  } finally {
    if (!stopped && sessionId && !options.keep) {
      await opened.manager.stopContainer(sessionId, { reason: 'demo failed' }).catch(() => undefined);
    }
    await opened.close();
  }
}

/** `nexora demo --script FILE`: a recorded session's tool calls performed again, step by step. */
async function runScript(options: DemoOptions & { script: string }, context: DemoContext): Promise<number> {
  const script = await readReplayScript(resolve(options.script));
  const printer = new StepPrinter(context.stdout);
  printer.info(`Nexora scripted run of ${options.script} — ${script.steps.length} steps; no language model is involved.\n`);
  const workspace = prepareWorkspace(options.workspace);
  const approveMode = (await loadConfig({ workspace })).config.agent.approve;
  const opened = await printer.step('Open the session store and the Docker engine', () => context.openManager());
  try {
    const started = await printer.step(
      `Start a workstation for ${workspace}`,
      () => opened.manager.start({ workspaceDir: workspace, onProgress: (step) => printer.progress(step) }),
      (value) => `session ${value.session.id}, ${value.fromPool ? 'from the warm pool' : 'cold start'}`,
    );
    try {
      const connected = await printer.step('Connect the tools', () => connectTools(started.workstation));
      try {
        // A script is a file someone handed over: its calls pass the policy like a model's.
        const approval = new ApprovalGuard({ mode: approveMode, ...(context.approver ? { approver: context.approver } : {}), noApproverReason: replayNoApprover });
        const results = await replaySteps({ tools: connected.tools, steps: scriptSteps(script), maxOutputChars: script.maxOutputChars, approval, onStep: (result) => printReplayStep(result, (line) => printer.info(line)) });
        const different = results.filter((result) => result.outcome === 'different');
        printer.info(different.length > 0 ? `\n✗ ${different.length} of ${results.length} steps differ from the recording; the first is step ${different[0]?.step.index ?? '?'}.` : `\n✓ ${results.length} steps performed${results.some((result) => result.outcome === 'same') ? ', every recorded result reproduced' : ''}.`);
        return different.length;
      } finally {
        connected.close();
      }
    } finally {
      if (!options.keep) await opened.manager.stopContainer(started.session.id, { reason: 'scripted run finished' }).catch(() => undefined);
      else printer.info(`Session ${started.session.id} is still running.`);
    }
  } finally {
    await opened.close();
  }
}

type Save = (screen: ScreenResult, name: string) => string;

async function greet(printer: StepPrinter, tools: VisualTools, save: Save): Promise<void> {
  await printer.step('Wait for the shell prompt', () => tools.keyboard({ text: 'clear\n', wait: { quietMs: 200, timeoutMs: 10_000 } }));
  const typed = await printer.step(
    'Type `echo hello from nexora` and press Enter',
    () => tools.keyboard({ text: 'echo hello from nexora\n', wait: { pattern: /^hello from nexora\s*$/m, timeoutMs: 10_000 } }),
    (result) => `${result.keystrokes} keys, wait ended by ${result.wait.outcome} after ${formatDuration(result.wait.waitedMs)}`,
  );
  if (typed.wait.outcome !== 'pattern') throw new NexoraError('workstation-failed', 'the greeting did not appear in the terminal');
  const screen = await printer.step('Read the terminal back and take a screenshot', () => tools.screen());
  showScreen(printer, screen, 4);
  printer.info(`    screenshot: ${save(screen, 'hello')}`);
}

async function seedWorkflow(printer: StepPrinter, tools: VisualTools, save: Save, workspace: string): Promise<void> {
  printer.info('\nThe seed\'s typical workflow: add error handling to process_data with vi, then run it.');
  await printer.step('Create main.go (execute)', async () => {
    const result = await tools.execute(`cat > main.go <<'NEXORA_EOF'\n${demoMainGo}NEXORA_EOF`);
    if (result.exitCode !== 0) throw new NexoraError('workstation-failed', `could not write main.go: ${result.stderr}`);
  });
  const steps: { label: string; text?: string; keys?: string[]; pattern?: RegExp | string; name: string }[] = [
    { label: 'keyboard("vi main.go\\n")', text: 'clear; vi main.go\n', pattern: '"main.go"', name: 'vi-open' },
    // Paste mode keeps vim's Go indentation from adding to the typed indentation.
    { label: 'keyboard(":set paste\\n")', text: ':set paste\n', name: 'paste' },
    { label: 'keyboard("/process_data\\n")', text: '/process_data\n', name: 'search' },
    { label: 'keyboard("j")', text: 'j', name: 'down' },
    { label: 'keyboard("O")', text: 'O', pattern: '-- INSERT', name: 'open-line' },
    { label: 'keyboard(the three error-handling lines)', text: '    if input == "" {\n        return "error: empty input"\n    }', name: 'typed' },
    { label: 'keyboard("\\x1b") — Escape', text: '\x1b', name: 'escape' },
    { label: 'keyboard(":wq\\n")', text: ':wq\n', name: 'saved' },
  ];
  for (const step of steps) {
    const result = await printer.step(
      step.label,
      () => tools.keyboard({ ...(step.text !== undefined ? { text: step.text } : {}), ...(step.keys ? { keys: step.keys } : {}), wait: step.pattern ? { pattern: step.pattern, timeoutMs: 10_000 } : { quietMs: 150 } }),
      (value) => `wait ended by ${value.wait.outcome} after ${formatDuration(value.wait.waitedMs)}`,
    );
    if (result.wait.outcome === 'timeout') throw new NexoraError('workstation-failed', `the terminal did not show what \`${step.label}\` should produce`);
    const screen = await tools.screen();
    showScreen(printer, screen, 6);
    printer.info(`    screenshot: ${save(screen, step.name)}`);
  }
  const run = await printer.step(
    'execute("go run main.go")',
    () => tools.execute('go run main.go', { timeoutMs: 300_000 }),
    (value) => `exit ${value.exitCode}`,
  );
  for (const line of `${run.stdout}${run.stderr}`.trim().split('\n')) printer.info(`    │ ${line}`);
  // The workstation wrote it: read through safe-file, so a link (to ~/.ssh/…) is refused, not printed below.
  const edited = (await readFileUnder({ root: workspace, path: 'main.go', maxBytes: 64 * 1024 }))?.bytes.toString('utf8') ?? '(no main.go)';
  if (edited !== demoMainGoEdited) {
    throw new NexoraError('workstation-failed', `main.go did not end up as intended. It reads:\n${edited}`);
  }
  if (run.exitCode !== 0 || run.stdout.trim() !== 'processed: test') {
    throw new NexoraError('workstation-failed', `go run main.go did not print "processed: test" (exit ${run.exitCode}): ${run.stderr.trim()}`);
  }
  printer.info('  ✓ main.go on the host now has the empty-input check, and it runs.');
}
