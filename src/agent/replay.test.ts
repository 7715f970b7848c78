import { describe, expect, it } from 'vitest';
import { diffScreens } from '../tools/screen-diff.js';
import type { ExecuteResult, ImageSize, KeyboardResult, MouseOptions, MouseResult, ScreenResult, VisualTools } from '../tools/types.js';
import { ApprovalGuard } from './approval.js';
import { normalizeResult, replaySteps, type ReplayStep } from './replay.js';

/** Records the screenshot size in force at each mouse call; the rest answers plainly. */
class SizeRecorder implements VisualTools {
  size: ImageSize | undefined;
  readonly mouseSizes: (ImageSize | undefined)[] = [];

  setImageSize(size: ImageSize | undefined): void {
    this.size = size;
  }

  screen(): Promise<ScreenResult> {
    const lines = ['$ '];
    return Promise.resolve({ text: lines.join('\n'), width: 1280, height: 800, cursor: { row: 0, column: 2 }, timestamp: '2026-11-29T00:00:00.000Z', changes: diffScreens(undefined, lines) });
  }

  keyboard(): Promise<KeyboardResult> {
    return Promise.reject(new Error('not used'));
  }

  mouse(options: MouseOptions): Promise<MouseResult> {
    this.mouseSizes.push(this.size);
    return Promise.resolve({ action: options.action, x: options.x, y: options.y, wait: { outcome: 'quiet', waitedMs: 1 } });
  }

  readonly executed: string[] = [];

  execute(command: string): Promise<ExecuteResult> {
    this.executed.push(command);
    return Promise.reject(new Error('not used'));
  }
}

describe('replaySteps', () => {
  it('replays mouse calls in the pixels of the screenshots the model was sent', async () => {
    const tools = new SizeRecorder();
    const click = (index: number): ReplayStep => ({ index, toolName: 'mouse', input: { action: 'click', x: 10, y: 10 } });
    const steps: ReplayStep[] = [
      click(1),
      { index: 2, toolName: 'screen', input: {}, expected: 'Terminal text:\n\nThe screenshot is scaled to 1229x768; give mouse coordinates in its pixels.' },
      click(3),
      { index: 4, toolName: 'screen', input: {}, expected: 'The screenshot is scaled to 640x400 (the whole display); give mouse coordinates in its pixels.' },
      click(5),
    ];
    await replaySteps({ tools, steps, maxOutputChars: 2000, approval: new ApprovalGuard({ mode: 'never' }) });
    expect(tools.mouseSizes).toEqual([undefined, { width: 1229, height: 768 }, { width: 640, height: 400 }]);
  });

  it('asks again for what was approved when it was recorded: with no one to ask, it is refused and not performed', async () => {
    const tools = new SizeRecorder();
    const steps: ReplayStep[] = [{ index: 1, toolName: 'execute', input: { command: 'git reset --hard' }, expected: 'exit code 0 after 5 ms' }];
    const [result] = await replaySteps({ tools, steps, maxOutputChars: 2000, approval: new ApprovalGuard({ mode: 'risky', noApproverReason: 'a replay has no one to ask' }) });
    expect(result?.outcome).toBe('different');
    expect(result?.actual).toMatch(/^Not run: execute\("git reset --hard"\) needs a person's approval .* refused: a replay has no one to ask/);
    expect(tools.executed).toEqual([]);
  });

  it('sets the scaling note aside when comparing (a replay looks at text only)', () => {
    expect(normalizeResult('row\nThe screenshot is scaled to 1229x768; give mouse coordinates in its pixels.')).toBe('row');
  });
});
