import { performance } from 'node:perf_hooks';
import type { RfbClient } from '../rfb/index.js';
import type { ProgramState } from './terminal/program-state.js';
import type { WaitOutcome } from './types.js';

/**
 * The display must stay unchanged this long for what the program printed to count as drawn;
 * longer after many keys, which the terminal may still be working through when the program
 * first blocks on a read.
 */
const drawnQuietMs = 20;
const maxDrawnQuietMs = 300;
/** How often a running program is looked at again when the display does not change. */
const recheckMs = 250;

export interface SettleOptions {
  rfb: Pick<RfbClient, 'waitForQuiet' | 'waitForUpdate' | 'lastUpdateAt'>;
  /** Reads the terminal's foreground program (one process-table read in the workstation). */
  readProgram: () => Promise<ProgramState>;
  /** performance.now() when the input was sent. */
  sentAt: number;
  timeoutMs: number;
  /**
   * `input`: only the program waiting for input (or leaving) ends the wait, or the timeout.
   * `settled`: also a display quiet for `quietMs` while the program runs.
   */
  waitFor: 'input' | 'settled';
  quietMs: number;
  /** Key presses sent: the more, the longer the display must be still. */
  keystrokes: number;
  signal?: AbortSignal;
}

export interface SettleResult {
  outcome: WaitOutcome;
  /** The program's state at the last look (undefined if it was never read). */
  program: ProgramState | undefined;
}

/**
 * Waits after input until the terminal's program waits for input and the display has drawn it,
 * instead of a fixed quiet interval: the process table says when the program blocks on the
 * terminal, the framebuffer says when the drawing has stopped. A program that polls (an
 * editor, a REPL, but also a server on its sockets) counts once the display has also been
 * quiet for `quietMs`; so does input that draws nothing (a password).
 */
export async function settleAfterInput(options: SettleOptions): Promise<SettleResult> {
  const { rfb, sentAt, quietMs, signal } = options;
  const drawnMs = Math.min(drawnQuietMs + options.keystrokes, maxDrawnQuietMs);
  const deadline = sentAt + options.timeoutMs;
  const remaining = (): number => deadline - performance.now();
  const signalOption = signal ? { signal } : {};
  let program: ProgramState | undefined;
  for (;;) {
    if (remaining() <= 0) return { outcome: 'timeout', program };
    const quiet = await rfb.waitForQuiet({ quietMs: drawnMs, since: sentAt, timeoutMs: remaining(), ...signalOption });
    if (quiet.outcome === 'timeout') return { outcome: 'timeout', program };
    const updateBeforeCheck = rfb.lastUpdateAt;
    program = await options.readProgram();
    const now = performance.now();
    const drewSinceInput = rfb.lastUpdateAt > sentAt;
    const quietFor = now - Math.max(sentAt, rfb.lastUpdateAt);
    if (program.activity === 'gone') return { outcome: 'exited', program };
    if (program.activity === 'input' && rfb.lastUpdateAt === updateBeforeCheck) {
      // Before anything was drawn the keys may not have reached the program yet.
      const settled = program.certain ? drewSinceInput || quietFor >= quietMs : quietFor >= quietMs;
      if (settled) return { outcome: 'input', program };
    }
    if (options.waitFor === 'settled' && program.activity === 'running' && quietFor >= quietMs) return { outcome: 'quiet', program };
    // Nothing decided: look again when the display changes, or a little later.
    const untilQuiet = Math.max(quietMs - quietFor, drawnMs);
    const wait = Math.min(remaining(), program.activity === 'running' && options.waitFor === 'settled' ? untilQuiet : Math.min(untilQuiet, recheckMs));
    if (wait <= 0) continue;
    await rfb.waitForUpdate({ after: rfb.lastUpdateAt, timeoutMs: wait, ...signalOption });
  }
}
