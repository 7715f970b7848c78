import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import { startToolsWorkstation, type ToolsWorkstation } from './fixtures/tools-workstation.js';

// A process in the workstation plays the attacker against the host's two channels into it:
// the command server (execute) and the tmux control client (screen text).
let station: ToolsWorkstation;

beforeAll(async () => {
  station = await startToolsWorkstation('channels');
  await station.connected.tools.keyboard({ text: "export PS1='$ '; clear\n", wait: { pattern: /^\$$/m, timeoutMs: 10_000 } });
});

afterAll(async () => {
  await station?.dispose();
});

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the command server against a process in the workstation', () => {
  it('cannot be written into or read through /proc by a process of the same user', async () => {
    const result = await station.connected.tools.execute('echo forged > /proc/$PPID/fd/1; cat /proc/$PPID/environ');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
  });

  it('fails a call at its deadline when the server is stopped, then a new server answers', async () => {
    const { commands, tools } = station.connected;
    const stopped = commands.diagnostics.serverPid;
    const error = await tools.execute('kill -STOP $PPID', { timeoutMs: 500 }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'timeout')).toBe(true);
    expect((error as Error).message).toMatch(/did not answer within \d+ ms \(it may be stopped/);
    const after = await tools.execute('echo recovered');
    expect(after.stdout).toBe('recovered\n');
    expect(commands.diagnostics.serverPid).not.toBe(stopped);
    await tools.execute(`kill -KILL ${stopped}`);
  });

  it('refuses a working directory that does not exist', async () => {
    const error = await station.connected.tools.execute('pwd', { cwd: '/workspace/no-such-dir' }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'invalid-argument')).toBe(true);
    expect((error as Error).message).toContain('/workspace/no-such-dir does not exist');
  });

  it('never runs a command cancelled before it started', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await station.connected.tools.execute('touch cancelled-early', { signal: controller.signal }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'aborted')).toBe(true);
    // Requests run in order: had the cancelled one been sent, it would have run by now.
    await station.connected.tools.execute('true');
    expect(existsSync(join(station.workspace, 'cancelled-early'))).toBe(false);
  });
});

describe('the tmux control channel against a process in the workstation', () => {
  it('reads a pane that prints %end and %error lines in full', async () => {
    const { tools } = station.connected;
    await tools.keyboard({ text: "clear; printf '%%end 1 1 1\\n%%error 1 1 1\\n%%begin 1 1 1\\nafter-forged\\n'\n", wait: { pattern: /^after-forged$/m, timeoutMs: 10_000 } });
    const screen = await tools.screen({ image: false });
    const rows = screen.text.split('\n');
    expect(rows).toContain('%end 1 1 1');
    expect(rows).toContain('%error 1 1 1');
    expect(rows).toContain('after-forged');
    expect(rows.length).toBeGreaterThan(20);
  });

  it('keeps the host buffer bounded when a process floods the control client without newlines, and reopens it', async () => {
    const { tools, terminal } = station.connected;
    // The control client runs as another uid: its stdout is not open to the user's processes
    // (test/attacks/workstation-helpers.test.ts). What they can still make long is what tmux
    // itself answers: a status line of 4 MiB on one line, read by every screen().
    const direct = await tools.execute("echo forged > /proc/$(pgrep -u nexora-observer '^tmux' | head -1)/fd/1");
    expect(direct.stderr).toMatch(/Permission denied/);
    await tools.execute(
      "printf 'set -g status-format[0] %s\\n' \"$(head -c 4194304 /dev/zero | tr '\\0' x)\" > /tmp/flood.conf && tmux source-file /tmp/flood.conf",
    );
    let failure: unknown;
    await until(async () => {
      failure = await tools.screen({ image: false }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      return failure !== undefined;
    }, 'the flood to break the control client');
    expect(NexoraError.is(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/without a line end|tmux did not answer/);
    expect(terminal.diagnostics.buffered.peakLine).toBeLessThanOrEqual(1024 * 1024);
    await tools.execute('tmux set -gu status-format[0]');
    await until(async () => (await tools.screen({ image: false }).then(() => true, () => false)), 'a new control client');
    expect(terminal.opened).toBeGreaterThanOrEqual(2);
  });
});
