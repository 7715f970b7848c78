import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ExecuteResult, VisualTools } from '../tools/types.js';
import { gatedTools, InputGate } from './input-gate.js';

function recordingTools(calls: string[]): VisualTools {
  const screen = { text: '', width: 1, height: 1, cursor: { column: 0, row: 0 }, timestamp: '', changes: { firstLook: true, changedLines: [], summary: '' } };
  const result: ExecuteResult = { stdout: '', stderr: '', exitCode: 0, durationMs: 1, timedOut: false, truncated: false };
  return {
    screen: () => Promise.resolve(screen),
    keyboard: () => Promise.reject(new Error('unused')),
    mouse: () => Promise.reject(new Error('unused')),
    execute: (command) => {
      calls.push(command);
      return Promise.resolve(result);
    },
  };
}

describe('take-over pauses execute', () => {
  it('runs a command at once while the agent holds the display', async () => {
    const calls: string[] = [];
    const tools = gatedTools(recordingTools(calls), new InputGate());
    const running = tools.execute('echo agent');
    // Every queued continuation runs before the next event-loop turn.
    await nextTurn();
    expect(calls).toEqual(['echo agent']);
    await running;
  });

  it('holds a command while a person has control, and runs it on hand-back', async () => {
    const calls: string[] = [];
    const gate = new InputGate();
    const tools = gatedTools(recordingTools(calls), gate);
    gate.take();
    const held = tools.execute('echo later');
    await nextTurn();
    // The same point at which the ungated command above had run.
    expect(calls).toEqual([]);
    await tools.screen();
    gate.handBack();
    await held;
    expect(calls).toEqual(['echo later']);

    gate.take();
    const controller = new AbortController();
    const aborted = tools.execute('echo never', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toThrow(/Interrupted/);
    expect(calls).toEqual(['echo later']);
  });
});
