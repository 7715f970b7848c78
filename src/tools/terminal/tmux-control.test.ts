import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TmuxControl } from './tmux-control.js';

// A real tmux server on a private socket, driven the way a workstation's is.
const socket = `nexora-test-${process.pid}`;
const env = { ...process.env, LANG: 'C.UTF-8' };
let client: ChildProcessWithoutNullStreams;
let control: TmuxControl;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { env, encoding: 'utf8' });
}

beforeAll(async () => {
  tmux('new-session', '-d', '-s', 'main', '-x', '100', '-y', '20', 'bash --norc --noprofile');
  client = spawn('tmux', ['-L', socket, '-C', 'attach', '-t', 'main'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  control = new TmuxControl({ stdin: client.stdin, stdout: client.stdout });
  await control.command('refresh-client -f no-output');
});

afterAll(() => {
  control.close();
  client.kill();
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

async function paneText(): Promise<string> {
  return (await control.pane()).rows.join('\n');
}

describe('TmuxControl', () => {
  it('reads the pane exactly as tmux capture-pane does, UTF-8 included', async () => {
    tmux('send-keys', '-t', 'main', '-l', "printf 'héllo 日本 🎉\\n'");
    tmux('send-keys', '-t', 'main', 'Enter');
    for (let attempt = 0; attempt < 100 && !(await paneText()).includes('\nhéllo 日本 🎉'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const state = await control.pane();
    expect(state.rows.join('\n')).toContain('\nhéllo 日本 🎉');
    const reference = tmux('capture-pane', '-p', '-t', 'main').replace(/\n$/, '').split('\n');
    expect(state.rows.slice(0, reference.length)).toEqual(reference);
    expect(state.width).toBe(100);
    expect(state.height).toBe(20);
    expect(state.rows).toHaveLength(20);
  });

  it('reports the cursor position', async () => {
    const state = await control.pane();
    const cursor = tmux('display-message', '-p', '-t', 'main', '#{cursor_x} #{cursor_y}').trim().split(' ').map(Number);
    expect([state.cursor.column, state.cursor.row]).toEqual(cursor);
  });

  it('answers pipelined commands in order', async () => {
    const replies = await Promise.all(['one', 'two', 'three'].map((word) => control.command(`display-message -p ${word}`)));
    expect(replies).toEqual([['one'], ['two'], ['three']]);
  });

  it('turns a tmux error into a rejected command', async () => {
    await expect(control.command('no-such-command')).rejects.toThrow(/tmux: .*unknown command/);
    expect(await control.command('display-message -p still-fine')).toEqual(['still-fine']);
  });
});
