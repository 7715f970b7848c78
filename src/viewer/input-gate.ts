import { NexoraError } from '../errors.js';
import type { KeyboardOptions, KeyboardResult, MouseOptions, MouseResult, VisualTools } from '../tools/types.js';

/** Who may send input to a session's display right now. */
export type InputHolder = 'agent' | 'person';

/**
 * The take-over switch of one session: while a person holds the display (the web view's
 * "Take control"), the agent's keyboard, mouse and execute calls wait at the gate; "Hand back"
 * lets them through again. Screen reads are never held up.
 */
export class InputGate {
  private current: InputHolder = 'agent';
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(holder: InputHolder) => void>();

  get holder(): InputHolder {
    return this.current;
  }

  /** How many agent calls are held at the gate now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** The person takes the display; returns false when they already had it. */
  take(): boolean {
    if (this.current === 'person') return false;
    this.set('person');
    return true;
  }

  /** The agent gets the display back; returns false when it already had it. */
  handBack(): boolean {
    if (this.current === 'agent') return false;
    this.set('agent');
    return true;
  }

  /** Calls `listener` on every change of holder; returns the unsubscribe function. */
  subscribe(listener: (holder: InputHolder) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the agent holds the display (at once if it does); rejects when `signal` aborts. */
  waitForAgent(signal?: AbortSignal): Promise<void> {
    if (this.current === 'agent') return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new NexoraError('aborted', 'Interrupted while a person had control of the display.'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(done);
        reject(new NexoraError('aborted', 'Interrupted while a person had control of the display.'));
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private set(holder: InputHolder): void {
    this.current = holder;
    if (holder === 'agent') {
      for (const wake of this.waiters) wake();
      this.waiters.clear();
    }
    for (const listener of this.listeners) listener(holder);
  }
}

/**
 * The same tools with keyboard, mouse, execute and the browser's actions held at `gate` while a
 * person has control.
 * Commands wait too: a person who took over (perhaps because the agent was doing something
 * wrong) must not have commands run behind their back. The CLI hands these to the agent loop,
 * so the loop itself needs no notion of take-over.
 */
export function gatedTools(tools: VisualTools, gate: Pick<InputGate, 'waitForAgent'>): VisualTools {
  tools.browser?.holdActionsAt((signal) => gate.waitForAgent(signal));
  return {
    ...(tools.browser ? { browser: tools.browser } : {}),
    ...(tools.setImageSize ? { setImageSize: (size) => tools.setImageSize?.(size) } : {}),
    // Read-only looks the approval policy takes before an Enter or a click: not held, not archived.
    ...(tools.promptLine ? { promptLine: (options) => tools.promptLine!(options) } : {}),
    ...(tools.displayWindows ? { displayWindows: (options) => tools.displayWindows!(options) } : {}),
    screen: (options) => tools.screen(options),
    execute: async (command, options) => {
      await gate.waitForAgent(options?.signal);
      return tools.execute(command, options);
    },
    keyboard: async (options: KeyboardOptions): Promise<KeyboardResult> => {
      await gate.waitForAgent(options.signal);
      return tools.keyboard(options);
    },
    mouse: async (options: MouseOptions): Promise<MouseResult> => {
      await gate.waitForAgent(options.signal);
      return tools.mouse(options);
    },
  };
}
