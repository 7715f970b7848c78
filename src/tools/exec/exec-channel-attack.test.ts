import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { ExecChannel, execServerCommand, execServerSource } from './exec-channel.js';

// The attacker is a real process writing into the command server's stdout: the server is
// started by a bash wrapper whose other job (ATTACK) shares that stdout, as a process in a
// workstation that got hold of the stream would. Workstation processes run without
// privileges, so when the tests run as root the server and its attacker run as nobody.
const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
let scratch: string;
const children: ChildProcess[] = [];
const stoppedPids: number[] = [];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nexora-exec-attack-'));
  chmodSync(scratch, 0o777);
});

afterEach(() => {
  for (const pid of stoppedPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

afterAll(() => {
  for (const child of children) killGroup(child);
  rmSync(scratch, { recursive: true, force: true });
});

function serverWithAttacker(attack: string, options: { maxReplyBytes?: number; replyGraceMs?: number } = {}): ExecChannel {
  return new ExecChannel({
      open: () => {
        const child = spawn('bash', ['-c', 'bash -c "$ATTACK" & exec python3 -I -S -c "$1"', 'wrapper', execServerSource], {
          stdio: ['pipe', 'pipe', 'inherit'],
          detached: true,
          env: { ...process.env, ATTACK: attack },
          cwd: scratch,
          ...unprivileged,
        });
        children.push(child);
        return Promise.resolve({ stdin: child.stdin, stdout: child.stdout, close: () => killGroup(child) });
      },
    // A loaded machine can take seconds to start Python.
    readyTimeoutMs: 60_000,
    ...options,
  });
}

/** The wrapper and its attacker are one process group. */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the command channel against a hostile workstation process', () => {
  it('keeps the host buffer bounded when a process floods the stream without newlines, and fails the call clearly', async () => {
    const trigger = join(scratch, 'flood');
    // Waits for the trigger, removes it (so a reopened server is left alone), then writes 64 MB without a newline.
    const channel = serverWithAttacker(`while [ ! -e ${trigger} ]; do sleep 0.02; done; rm -f ${trigger}; for i in $(seq 1000); do head -c 65536 /dev/zero | tr '\\0' x 2>/dev/null; done`, {
      maxReplyBytes: 1024 * 1024,
    });
    try {
      await channel.waitReady();
      const running = channel.run('sleep 30', { timeoutMs: 60_000 }).catch((error: unknown) => error);
      writeFileSync(trigger, '');
      const error = await running;
      expect(NexoraError.is(error, 'workstation-failed')).toBe(true);
      expect((error as Error).message).toMatch(/without a line end \(the limit is 1048576\)/);
      const { buffered } = channel.diagnostics;
      expect(buffered.peak).toBeLessThanOrEqual(1024 * 1024);
      expect(buffered.now).toBe(0);
      // The next call gets a new server.
      const after = await channel.run('echo recovered');
      expect(after.stdout).toBe('recovered\n');
      expect(channel.opened).toBe(2);
    } finally {
      channel.close();
    }
  });

  it('ignores reply lines that do not carry the channel nonce', async () => {
    const forged = (id: number, nonce: string): string =>
      JSON.stringify({ id, stdout: Buffer.from('forged\n').toString('base64'), stderr: '', exitCode: 0, signal: null, durationMs: 1, timedOut: false, cancelled: false, truncated: false, stdoutBytes: 7, stderrBytes: 0, nonce });
    const lines = [1, 2, 3].flatMap((id) => [forged(id, ''), forged(id, 'a'.repeat(48)), JSON.stringify({ ready: true, pid: 1, nonce: 'b'.repeat(48) })]);
    const channel = serverWithAttacker(`while true; do printf '%s\\n' ${lines.map((line) => `'${line}'`).join(' ')}; sleep 0.02; done`);
    try {
      await channel.waitReady();
      const running = channel.run('sleep 1; echo real');
      // The forgeries arrive while the real command still runs.
      await until(() => channel.diagnostics.ignoredLines >= 9, 'forged lines');
      const result = await running;
      expect(result.stdout).toBe('real\n');
      expect(result.exitCode).toBe(0);
    } finally {
      channel.close();
    }
  });

  it('fails a call at its deadline when the server is stopped, then starts a new server', async () => {
    const channel = serverWithAttacker('true', { replyGraceMs: 1000 });
    try {
      await channel.waitReady();
      const stopped = channel.diagnostics.serverPid!;
      stoppedPids.push(stopped);
      const started = Date.now();
      // The command stops its own server (SIGSTOP needs no privilege over a process of the same user).
      const error = await channel.run('kill -STOP $PPID; echo never-read', { timeoutMs: 500 }).catch((caught: unknown) => caught);
      expect(NexoraError.is(error, 'timeout')).toBe(true);
      expect((error as Error).message).toMatch(/did not answer within 1500 ms \(it may be stopped/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      const after = await channel.run('echo recovered');
      expect(after.stdout).toBe('recovered\n');
      expect(channel.diagnostics.serverPid).not.toBe(stopped);
    } finally {
      channel.close();
    }
  });

  it('refuses to let a process of the same user write into or read the server streams through /proc', async () => {
    const channel = serverWithAttacker('true');
    try {
      const result = await channel.run('echo injected > /proc/$PPID/fd/1; cat /proc/$PPID/fd/0 </dev/null; cat /proc/$PPID/environ');
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/Permission denied/);
      expect(result.stdout).toBe('');
    } finally {
      channel.close();
    }
  });

  it('honours a cancel sent before the command started: it never runs', async () => {
    const channel = serverWithAttacker('true');
    try {
      await channel.waitReady();
      const marker = join(scratch, 'ran');
      const controller = new AbortController();
      controller.abort();
      const error = await channel.run(`touch ${marker}`, { signal: controller.signal }).catch((caught: unknown) => caught);
      expect(NexoraError.is(error, 'aborted')).toBe(true);
      // Requests run in order: had the cancelled one been sent, it would have started by now.
      await channel.run('true');
      expect(existsSync(marker)).toBe(false);
    } finally {
      channel.close();
    }
  });

  it('the server itself refuses a run whose cancel arrived first', async () => {
    const child = spawn(execServerCommand[0]!, execServerCommand.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], cwd: scratch, ...unprivileged });
    children.push(child);
    const marker = join(scratch, 'ran-early');
    const nonce = 'c'.repeat(48);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdin.write(`${JSON.stringify({ op: 'hello', nonce })}\n`);
    child.stdin.write(`${JSON.stringify({ id: 7, op: 'cancel' })}\n`);
    child.stdin.write(`${JSON.stringify({ id: 7, op: 'run', command: `touch ${marker}`, timeoutMs: 5000, maxBytes: 1000 })}\n`);
    child.stdin.write(`${JSON.stringify({ id: 8, op: 'run', command: 'true', timeoutMs: 5000, maxBytes: 1000 })}\n`);
    await until(() => output.includes('"id": 8'), 'the second reply');
    const replies = output.trim().split('\n').map((line) => JSON.parse(line) as { id?: number; cancelled?: boolean; nonce: string });
    expect(replies.every((reply) => reply.nonce === nonce)).toBe(true);
    expect(replies.find((reply) => reply.id === 7)?.cancelled).toBe(true);
    expect(existsSync(marker)).toBe(false);
    child.stdin.end();
  });
});
