import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { ExecChannel, execServerCommand } from './exec-channel.js';

// The command server runs here as a local child process: the same script and protocol a
// workstation runs through an Engine API exec.
let server: ChildProcessWithoutNullStreams;
let channel: ExecChannel;
let workspace: string;

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'nexora-exec-'));
  server = spawn(execServerCommand[0]!, execServerCommand.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  // A loaded machine can take seconds to start Python.
  channel = new ExecChannel({ open: () => Promise.resolve({ stdin: server.stdin, stdout: server.stdout }), readyTimeoutMs: 60_000 });
  await channel.waitReady();
}, 90_000);

afterAll(() => {
  channel.close();
  server.kill();
  rmSync(workspace, { recursive: true, force: true });
});

describe('ExecChannel with the command server', () => {
  it('separates stdout and stderr and reports the exit code', async () => {
    const result = await channel.run('echo out; echo err >&2; exit 3', { cwd: workspace });
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
    expect(result.exitCode).toBe(3);
    expect(result.timedOut).toBe(false);
    expect(result.truncated).toBe(false);
  });

  it('runs in the given directory with the given environment', async () => {
    const result = await channel.run('pwd; echo "$GREETING"', { cwd: workspace, env: { GREETING: 'héllo wörld' } });
    expect(result.stdout).toBe(`${workspace}\nhéllo wörld\n`);
  });

  it('keeps the head and tail of long output with a marker', async () => {
    const result = await channel.run('seq 1 200000', { maxBytes: 2000 });
    expect(result.truncated).toBe(true);
    expect(result.stdoutBytes).toBeGreaterThan(1_000_000);
    expect(result.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.stdout.endsWith('199999\n200000\n')).toBe(true);
    expect(result.stdout).toMatch(/\[\.\.\. \d+ bytes omitted by nexora/);
    expect(result.stdout.length).toBeLessThan(2200);
  });

  it('kills the whole process group on timeout', async () => {
    const marker = `nxtimeout${process.pid}x${Date.now()}`;
    const result = await channel.run(`(exec -a ${marker} sleep 30) & sleep 31; echo never`, { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGKILL');
    expect(result.durationMs).toBeLessThan(2000);
    // The bracket keeps pgrep from matching its own command line.
    const survivors = await channel.run(`pgrep -f '[n]${marker.slice(1)}' || true`);
    expect(survivors.stdout.trim()).toBe('');
  });

  it('returns when the command exits while a background child it started lives on', async () => {
    const marker = `nxbackground${process.pid}x${Date.now()}`;
    const result = await channel.run(`(exec -a ${marker} sleep 40) & echo started`);
    expect(result.stdout).toBe('started\n');
    expect(result.exitCode).toBe(0);
    expect(result.durationMs).toBeLessThan(1000);
    // The bracket keeps pgrep from matching its own command line.
    const survivors = await channel.run(`pgrep -f '[n]${marker.slice(1)}'`);
    expect(survivors.stdout.trim()).toMatch(/^\d+$/);
    await channel.run(`pkill -f '[n]${marker.slice(1)}'`);
  });

  it("keeps draining a background child's output so it never blocks", async () => {
    const marker = `nxchatty${process.pid}x${Date.now()}`;
    await channel.run(`(exec -a ${marker} bash -c 'for i in $(seq 20000); do echo line $i; done; sleep 30; true') & true`);
    // 20,000 lines overflow a pipe buffer: only a drained pipe lets the loop finish and reach sleep.
    let reachedSleep = false;
    for (let attempt = 0; attempt < 100 && !reachedSleep; attempt++) {
      const state = await channel.run(`ps -o args= --ppid $(pgrep -f '[n]${marker.slice(1)}' | head -1) || true`);
      reachedSleep = state.stdout.includes('sleep 30');
      if (!reachedSleep) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(reachedSleep).toBe(true);
    await channel.run(`pkill -f '[n]${marker.slice(1)}'`);
  });

  it('runs commands concurrently', async () => {
    const started = Date.now();
    const results = await Promise.all([1, 2, 3].map((n) => channel.run(`sleep 0.3; echo ${n}`)));
    expect(results.map((result) => result.stdout)).toEqual(['1\n', '2\n', '3\n']);
    expect(Date.now() - started).toBeLessThan(850);
  });

  it('refuses a working directory that does not exist instead of running elsewhere', async () => {
    const missing = join(workspace, 'no-such-dir');
    const error = await channel.run('pwd', { cwd: missing }).catch((caught: unknown) => caught);
    expect(NexoraError.is(error, 'invalid-argument')).toBe(true);
    expect((error as Error).message).toContain(`${missing} does not exist`);
  });

  it('cancels a command through its abort signal', async () => {
    const controller = new AbortController();
    const running = channel.run('sleep 20', { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(result.exitCode).toBeNull();
  });
});
