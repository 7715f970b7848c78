import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTerminalView, renderStatusLine } from './terminal-view.js';
import { TmuxControl } from './tmux-control.js';

// A real tmux server on a private socket with the workstation's own tmux.conf.
const socket = `nexora-view-${process.pid}`;
const config = join(import.meta.dirname, '../../workstation/image/files/etc/tmux.conf');
const env = { ...process.env, LANG: 'C.UTF-8' };
let client: ChildProcessWithoutNullStreams;
let control: TmuxControl;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, '-f', config, ...args], { env, encoding: 'utf8' });
}

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 25));
}

beforeAll(async () => {
  tmux('new-session', '-d', '-s', 'main', '-x', '60', '-y', '10', '-c', '/', 'bash --norc --noprofile');
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

describe('readTerminalView', () => {
  it('draws a second window split in two as tmux does: both panes, the border, the window list', async () => {
    tmux('new-window', '-t', 'main', '-c', '/', 'bash --norc --noprofile');
    tmux('split-window', '-h', '-t', 'main', '-c', '/', 'bash --norc --noprofile');
    tmux('send-keys', '-t', 'main.0', "PS1='L$ '; clear; echo left-pane", 'Enter');
    tmux('send-keys', '-t', 'main.1', "PS1='R$ '; clear; echo right-pane", 'Enter');
    await until(() => tmux('capture-pane', '-p', '-t', 'main.1').includes('R$') && tmux('capture-pane', '-p', '-t', 'main.0').includes('L$'));
    const view = await readTerminalView(control);
    const [left, right] = view.panes;
    expect(view.panes).toHaveLength(2);
    expect(left!.width + 1 + right!.width).toBe(view.width);
    // Every window row: the left pane's text padded to its width, the border, the right pane's.
    const leftRows = tmux('capture-pane', '-p', '-t', 'main.0').split('\n');
    const rightRows = tmux('capture-pane', '-p', '-t', 'main.1').split('\n');
    const expected = Array.from({ length: left!.height }, (_, row) => `${(leftRows[row] ?? '').padEnd(left!.width)}│${rightRows[row] ?? ''}`.replace(/\s+$/, ''));
    expect(view.rows.slice(0, left!.height)).toEqual(expected);
    expect(view.rows[0]).toMatch(/^left-pane +│right-pane$/);
    expect(view.rows[1]).toMatch(/^L\$ +│R\$$/);
    // The status line: session, window list with the current window marked, path on the right.
    expect(view.rows.at(-1)).toMatch(/^\[main\] 0:bash- 1:bash\* +\/$/);
    expect(view.rows).toHaveLength(view.panes[0]!.height + 1);
    // The cursor is the active (right) pane's, in the window's coordinates.
    expect(view.cursor).toEqual({ column: right!.left + 3, row: 1 });
    expect(view.window.index).toBe(1);
  });

  it('joins borders where a vertical and a horizontal one meet', async () => {
    tmux('split-window', '-v', '-t', 'main', '-c', '/', 'bash --norc --noprofile');
    await until(() => tmux('list-panes', '-t', 'main').split('\n').filter(Boolean).length === 3);
    const view = await readTerminalView(control);
    const bottomRight = view.panes.find((pane) => pane.top > 0)!;
    const joint = view.rows[bottomRight.top - 1]!;
    expect(joint[bottomRight.left - 1]).toBe('├');
    expect(joint.slice(bottomRight.left)).toMatch(/^─+$/);
  });
});

describe('renderStatusLine', () => {
  it('drops styles and list markers and aligns the right part', () => {
    const expanded =
      '#[align=left range=left default]#[push-default][main] #[pop-default]#[norange default]#[list=on align=left]#[list=left-marker]<#[list=right-marker]>#[list=on]#[range=window|0 default]0:bash-#[norange default] #[range=window|1 list=focus bold]1:vim*#[norange list=on default]#[nolist align=right range=right default]/work #[norange default]';
    expect(renderStatusLine(expanded, 30)).toBe('[main] 0:bash- 1:vim*   /work');
  });
});
