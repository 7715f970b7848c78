import { setTimeout as sleep } from 'node:timers/promises';
import { NexoraError } from '../errors.js';
import type { EventRecord } from '../store/index.js';
import type { InputHolder } from './input-gate.js';

export interface EventLogGateOptions {
  sessionId: string;
  /** The session's events of the given kinds after `afterId` (EventStore.list). */
  listEvents: (options: { afterId: number; limit: number; kinds: readonly string[] }) => Promise<EventRecord[]>;
  /** How often to look again while a person has control. */
  pollMs?: number;
}

const controlKinds = ['control-take', 'control-return'] as const;

/**
 * The take-over gate for an agent in another process than the web view (`nexora run` beside
 * `nexora view`, sharing a PostgreSQL store): it follows the `control-take` and
 * `control-return` events the web view records. Same contract as InputGate.waitForAgent.
 */
export class EventLogGate {
  private lastId = 0;
  private current: InputHolder = 'agent';

  constructor(private readonly options: EventLogGateOptions) {}

  get holder(): InputHolder {
    return this.current;
  }

  async waitForAgent(signal?: AbortSignal): Promise<void> {
    await this.catchUp();
    while (this.current === 'person') {
      try {
        await sleep(this.options.pollMs ?? 250, undefined, signal ? { signal } : {});
      } catch (error) {
        throw new NexoraError('aborted', 'Interrupted while a person had control of the display.', { cause: error });
      }
      await this.catchUp();
    }
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const events = await this.options.listEvents({ afterId: this.lastId, limit: 500, kinds: controlKinds });
      for (const event of events) {
        this.lastId = event.id;
        this.current = event.kind === 'control-take' ? 'person' : 'agent';
      }
      if (events.length < 500) return;
    }
  }
}
