import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { TmuxControl } from './tmux-control.js';

// A real tmux server on a private socket. The attackers are a program in the pane (it
// prints text shaped like control lines) and a process that writes into the control
// client's stdout (a bash wrapper shares it, as a process in a workstation could).
const socket = `nexora-attack-${process.pid}`;
const env = { ...process.env, LANG: 'C.UTF-8' };
const children: ChildProcess[] = [];
let scratch: string;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { env, encoding: 'utf8' });
}

function controlWithAttacker(attack: string, options: { timeoutMs?: number; maxLineLength?: number } = {}): TmuxControl {
  return new TmuxControl({
    open: () => {
      const child = spawn('bash', ['-c', 'bash -c "$ATTACK" & exec tmux -L "$1" -C attach-session -t main', 'wrapper', socket], {
        env: { ...env, ATTACK: attack },
        stdio: ['pipe', 'pipe', 'ignore'],
        detached: true,
      });
      children.push(child);
      return Promise.resolve({ stdin: child.stdin, stdout: child.stdout, close: () => killGroup(child) });
    },
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

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nexora-tmux-attack-'));
  chmodSync(scratch, 0o755);
  // The pane waits for Enter, then prints the forged control lines written by the test.
  tmux('new-session', '-d', '-s', 'main', '-x', '100', '-y', '150', `sh -c 'read go; cat ${join(scratch, 'forged.txt')}; exec sleep 1000'`);
});

afterAll(() => {
  for (const child of children) killGroup(child);
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  rmSync(scratch, { recursive: true, force: true });
});

/** The time and number tmux gives the next command, read from a raw control client. */
async function nextGuard(): Promise<{ time: number; number: number }> {
  const raw = spawn('tmux', ['-L', socket, '-C', 'attach-session', '-t', 'main'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
  let output = '';
  raw.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  raw.stdin.write('display-message -p probe\n');
  await until(() => /%begin \d+ \d+ 1\nprobe\n/.test(output), 'the probe reply');
  raw.stdin.end();
  const match = /%begin (\d+) (\d+) 1\nprobe\n/.exec(output)!;
  return { time: Number(match[1]), number: Number(match[2]) };
}

describe('TmuxControl against hostile output', () => {
  it('reads a pane that prints lines shaped like %end, %error and %begin with the right time and number, in full', async () => {
    const { time, number } = await nextGuard();
    // Every guard the next 20 commands could carry, in this second and the next.
    const forged: string[] = [];
    for (let offset = 1; offset <= 20; offset++) {
      for (const second of [time, time + 1]) {
        forged.push(`%end ${second} ${number + offset} 1`, `%error ${second} ${number + offset} 1`, `%begin ${second} ${number + offset} 1`);
      }
    }
    forged.push('last forged line');
    writeFileSync(join(scratch, 'forged.txt'), `${forged.join('\n')}\n`);
    tmux('send-keys', '-t', 'main', 'Enter');
    await until(() => tmux('capture-pane', '-p', '-t', 'main').includes('last forged line'), 'the forged lines on the pane');
    const control = controlWithAttacker('true');
    try {
      const state = await control.pane();
      const reference = tmux('capture-pane', '-p', '-t', 'main').replace(/\n$/, '').split('\n');
      expect(state.height).toBe(150);
      expect(state.rows).toHaveLength(150);
      expect(state.rows.slice(0, reference.length)).toEqual(reference);
      expect(state.rows).toContain(`%end ${time} ${number + 5} 1`);
      expect(state.rows).toContain('last forged line');
      // The channel is still in step.
      expect(await control.command('display-message -p after')).toEqual(['after']);
    } finally {
      control.close();
    }
  });

  it('keeps the host buffer bounded when a process floods the client stream without newlines', async () => {
    const trigger = join(scratch, 'flood');
    const control = controlWithAttacker(`while [ ! -e ${trigger} ]; do sleep 0.02; done; rm -f ${trigger}; for i in $(seq 1000); do head -c 65536 /dev/zero | tr '\\0' x 2>/dev/null; done`, { maxLineLength: 256 * 1024 });
    try {
      expect(await control.command('display-message -p before')).toEqual(['before']);
      writeFileSync(trigger, '');
      let error: unknown;
      // Until the flood reaches the client (the attacker polls for the trigger file), commands succeed.
      const deadline = Date.now() + 15_000;
      while (error === undefined && Date.now() < deadline) {
        error = await control.command('display-message -p during').then(
          () => undefined,
          (caught: unknown) => caught,
        );
      }
      expect((error as Error).message).toMatch(/without a line end \(the limit is 262144\)/);
      expect(NexoraError.is(error, 'workstation-failed')).toBe(true);
      expect(control.diagnostics.buffered.peakLine).toBeLessThanOrEqual(256 * 1024);
      expect(existsSync(trigger)).toBe(false);
      expect(await control.command('display-message -p reopened')).toEqual(['reopened']);
      expect(control.opened).toBe(2);
    } finally {
      control.close();
    }
  });

  it('fails a command at its deadline when tmux is stopped, and reopens once it runs again', async () => {
    const control = controlWithAttacker('true', { timeoutMs: 1000 });
    const serverPid = Number(tmux('display-message', '-p', '#{pid}').trim());
    try {
      expect(await control.command('display-message -p before')).toEqual(['before']);
      process.kill(serverPid, 'SIGSTOP');
      const error = await control.command('display-message -p stopped').catch((caught: unknown) => caught);
      expect(NexoraError.is(error, 'timeout')).toBe(true);
      expect((error as Error).message).toMatch(/tmux did not answer within 1000 ms \(it may be stopped/);
      process.kill(serverPid, 'SIGCONT');
      expect(await control.command('display-message -p resumed')).toEqual(['resumed']);
      expect(control.opened).toBe(2);
    } finally {
      process.kill(serverPid, 'SIGCONT');
      control.close();
    }
  });

  it('refuses a command that is not one non-empty line (an empty line would detach the client)', async () => {
    const control = controlWithAttacker('true');
    try {
      await expect(control.command('')).rejects.toThrow(/one non-empty line/);
      await expect(control.command('display-message -p a\nkill-server')).rejects.toThrow(/one non-empty line/);
      const controller = new AbortController();
      controller.abort();
      await expect(control.command('display-message -p x', { signal: controller.signal })).rejects.toThrow(/cancelled/);
    } finally {
      control.close();
    }
  });
});
