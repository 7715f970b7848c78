import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NexoraError } from '../src/errors.js';
import type { VisualTools } from '../src/tools/types.js';
import { eventually } from './fixtures/eventually.js';
import { startToolsWorkstation, type ToolsWorkstation } from './fixtures/tools-workstation.js';

let station: ToolsWorkstation;
let tools: VisualTools;

beforeAll(async () => {
  station = await startToolsWorkstation('tools');
  tools = station.connected.tools;
  // A quiet, predictable prompt for the checks below.
  await tools.keyboard({ text: "export PS1='$ '; clear\n", wait: { pattern: /^\$$/m, timeoutMs: 10_000 } });
});

afterAll(async () => {
  await station?.dispose();
});

/** Random text from printable ASCII, Latin-1, CJK and emoji. */
function randomText(length: number, seed: number): string {
  const pools = [
    Array.from({ length: 95 }, (_, index) => String.fromCodePoint(0x20 + index)),
    [...'éüßàçñøåÆÉÖ¿¡°±µ'],
    [...'日本語漢字中文한국어'],
    [...'🎉🚀😀👍'],
  ];
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  let text = '';
  for (let index = 0; index < length; index++) {
    const roll = next() % 100;
    const pool = pools[roll < 70 ? 0 : roll < 85 ? 1 : roll < 95 ? 2 : 3]!;
    text += pool[next() % pool.length];
  }
  return text;
}

describe('keyboard()', () => {
  it('types 1,000 random characters (ASCII, Latin-1, CJK, emoji) into cat > file exactly', async () => {
    const text = randomText(1000, 42);
    await tools.keyboard({ text: 'cat > typed.txt\n', wait: { quietMs: 100 } });
    await tools.keyboard({ text: `${text}\n`, wait: { quietMs: 300, timeoutMs: 20_000 } });
    await tools.keyboard({ keys: ['ctrl+d'], wait: { pattern: /^\$$/m } });
    const written = readFileSync(join(station.workspace, 'typed.txt'), 'utf8');
    expect(written).toBe(`${text}\n`);
  });

  it('edits a file in vim with Escape and :wq', async () => {
    await tools.execute("printf 'one\\ntwo\\n' > vim.txt");
    await tools.keyboard({ text: 'vim vim.txt\n', wait: { pattern: '"vim.txt"', timeoutMs: 10_000 } });
    await tools.keyboard({ text: 'jothree\x1b:wq\n', wait: { pattern: /^\$$/m, timeoutMs: 10_000 } });
    expect(readFileSync(join(station.workspace, 'vim.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('interrupts sleep 100 with ctrl+c', async () => {
    await tools.keyboard({ text: 'sleep 100\n', wait: { quietMs: 100 } });
    const running = await tools.execute('pgrep -x sleep || true');
    expect(running.stdout.trim()).not.toBe('');
    const result = await tools.keyboard({ keys: ['ctrl+c'], wait: { pattern: /\^C\n\$$/m } });
    expect(result.wait.outcome).toBe('pattern');
    const after = await tools.execute('pgrep -x sleep || true');
    expect(after.stdout.trim()).toBe('');
  });

  it('moves through shell history with the arrow keys', async () => {
    await tools.keyboard({ text: 'echo first-entry\n', wait: { pattern: /^first-entry$/m } });
    await tools.keyboard({ text: 'echo second-entry\n', wait: { pattern: /^second-entry$/m } });
    await tools.keyboard({ text: 'clear\n', wait: { pattern: /^\$$/m } });
    const result = await tools.keyboard({ keys: ['Up', 'Up'], wait: { pattern: 'echo second-entry' } });
    expect(result.screen.text.split('\n')[result.screen.cursor.row]).toBe('$ echo second-entry');
    await tools.keyboard({ keys: ['ctrl+u'], wait: { quietMs: 100 } });
  });

  it('rejects an unknown key name and empty input with a clear error', async () => {
    await expect(tools.keyboard({ keys: ['ctrl+NoSuchKey'] })).rejects.toThrow(/NoSuchKey/);
    await expect(tools.keyboard({})).rejects.toSatisfy((error) => NexoraError.is(error, 'invalid-argument'));
  });
});

describe('screen()', () => {
  it('returns the exact text tmux reports, a PNG of the display, and the changed rows', async () => {
    await tools.keyboard({ text: 'clear\n', wait: { pattern: /^\$$/m } });
    // tmux names the window after its foreground program at its next status redraw (up to
    // status-interval, 5 s): until then the status line may still say `clear`.
    await eventually(() => tools.screen({ image: false }), (look) => /^\[main\] 0:bash\*/m.test(look.text), 'tmux naming the window after the shell again', 30_000);
    const before = await tools.screen();
    const reference = await tools.execute('tmux capture-pane -p -t main');
    // One pane: the window is the pane's rows, then tmux's status line.
    const rows = before.text.split('\n');
    expect(rows.slice(0, -1).join('\n').replace(/\n+$/, '')).toBe(reference.stdout.replace(/\n+$/, ''));
    expect(rows.at(-1)).toMatch(/^\[main\] 0:bash\*/);
    expect(before.width).toBe(1280);
    expect(before.height).toBe(800);
    const png = PNG.sync.read(before.png!);
    expect([png.width, png.height]).toEqual([1280, 800]);

    // keyboard() returns what changed since the previous look...
    const typed = await tools.keyboard({ text: 'echo screen-check\n', wait: { pattern: /^screen-check$/m } });
    expect(typed.screen.changes.firstLook).toBe(false);
    const changedRows = typed.screen.changes.changedLines.map((line) => line.text);
    expect(changedRows).toContain('$ echo screen-check');
    expect(changedRows).toContain('screen-check');
    expect(typed.screen.changes.summary).toMatch(/lines? changed/);
    // ...so the next look sees no further change, and a new picture.
    const after = await tools.screen();
    expect(after.changes.summary).toBe('no change');
    expect(Buffer.compare(after.png!, before.png!)).not.toBe(0);
  });

  it('reads the whole display with OCR when asked', async () => {
    await tools.keyboard({ text: 'clear; echo OCR READABLE TEXT\n', wait: { pattern: /^OCR READABLE TEXT$/m } });
    const result = await tools.screen({ image: false, ocr: true });
    expect(result.png).toBeUndefined();
    expect(result.ocrText).toMatch(/READABLE/);
  });
});

describe('waiting', () => {
  it('sees output that arrives after a second with a pattern wait, and no later than needed', async () => {
    const result = await tools.keyboard({ text: 'sleep 1; echo late-output\n', wait: { pattern: /^late-output$/m, timeoutMs: 10_000 } });
    expect(result.wait.outcome).toBe('pattern');
    expect(result.wait.waitedMs).toBeGreaterThanOrEqual(950);
    expect(result.wait.waitedMs).toBeLessThan(1800);
    expect(result.screen.text).toMatch(/^late-output$/m);
  });

  it('sees the same output with a quiet wait long enough to span the pause', async () => {
    const result = await tools.keyboard({ text: 'sleep 0.5; echo quiet-output\n', wait: { quietMs: 900, timeoutMs: 10_000 } });
    // The prompt comes back before the quiet interval is up: that ends the wait.
    expect(result.wait.outcome).toBe('input');
    expect(result.screen.text).toMatch(/^quiet-output$/m);
  });

  it('reports a timeout as a timeout', async () => {
    const result = await tools.keyboard({ text: 'echo nothing-special\n', wait: { pattern: 'never-printed', timeoutMs: 400 } });
    expect(result.wait.outcome).toBe('timeout');
    expect(result.wait.waitedMs).toBeGreaterThanOrEqual(390);
  });
});

describe('execute()', () => {
  it('reports exit codes and keeps stderr apart from stdout', async () => {
    const result = await tools.execute('echo to-out; echo to-err >&2; exit 7');
    expect(result).toMatchObject({ stdout: 'to-out\n', stderr: 'to-err\n', exitCode: 7, timedOut: false, truncated: false });
  });

  it('runs in /workspace as the workspace owner', async () => {
    const result = await tools.execute('pwd; id -u; touch owned-by-me');
    expect(result.stdout).toBe('/workspace\n1000\n');
  });

  it('truncates 10 MB of output to its head and tail with a marker', async () => {
    const result = await tools.execute("head -c 10000000 /dev/zero | tr '\\0' x; echo; echo END-OF-OUTPUT");
    expect(result.truncated).toBe(true);
    expect(result.stdout.startsWith('xxxx')).toBe(true);
    expect(result.stdout.endsWith('END-OF-OUTPUT\n')).toBe(true);
    expect(result.stdout).toMatch(/bytes omitted by nexora/);
    expect(result.stdout.length).toBeLessThan(70 * 1024);
  });

  it('kills the whole process group on timeout and leaves nothing behind', async () => {
    const result = await tools.execute('(exec -a nexora-stray-child sleep 60) & sleep 61', { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(2000);
    const ps = await tools.execute('ps -eo args');
    expect(ps.stdout).not.toMatch(/nexora-stray-child|sleep 61/);
  });

  it('rejects bad arguments with the problem named', async () => {
    await expect(tools.execute('')).rejects.toThrow(/needs a command/);
    await expect(tools.execute('true', { timeoutMs: -5 })).rejects.toThrow(/timeoutMs must be/);
    await expect(tools.execute('true', { cwd: 'relative' })).rejects.toThrow(/absolute path/);
  });
});

describe('mouse()', () => {
  it('clicks land where asked, in the PNG coordinates', async () => {
    // setsid: the window outlives the execute() that starts it.
    await tools.execute("DISPLAY=:1 setsid xterm -title click-target -geometry 30x8+800+500 -e 'sleep 60' >/dev/null 2>&1 &");
    await tools.execute('for i in $(seq 100); do DISPLAY=:1 xdotool search --name click-target && break; sleep 0.05; done');
    const geometry = await tools.execute('DISPLAY=:1 xdotool search --name click-target getwindowgeometry --shell');
    const x = Number(/X=(\d+)/.exec(geometry.stdout)?.[1]);
    const y = Number(/Y=(\d+)/.exec(geometry.stdout)?.[1]);
    expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true);
    await tools.mouse({ action: 'click', x: x + 40, y: y + 40 });
    const focused = await tools.execute('DISPLAY=:1 xdotool getwindowfocus getwindowname');
    expect(focused.stdout.trim()).toBe('click-target');
    const location = await tools.execute('DISPLAY=:1 xdotool getmouselocation --shell');
    expect(location.stdout).toContain(`X=${x + 40}\n`);
    expect(location.stdout).toContain(`Y=${y + 40}\n`);
    // Give the terminal its focus back.
    await tools.mouse({ action: 'click', x: 200, y: 200 });
  });

  it('rejects coordinates off the screen', async () => {
    await expect(tools.mouse({ action: 'click', x: 1280, y: 10 })).rejects.toThrow(/off the screen/);
    await expect(tools.mouse({ action: 'move', x: -1, y: 10 })).rejects.toThrow(/off the screen/);
  });
});
