import { describe, expect, it } from 'vitest';
import { NexoraError } from '../errors.js';
import { Reopening, type Breakable } from './reopening.js';

class Connection implements Breakable {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

describe('Reopening', () => {
  it("ends a caller's wait for a shared open when that caller's signal fires, and keeps the open for the others", async () => {
    let finishOpen: ((connection: Connection) => void) | undefined;
    const channel = new Reopening<Connection>({
      open: () =>
        new Promise<Connection>((resolve) => {
          finishOpen = resolve;
        }),
      closedMessage: 'the test channel was closed',
    });
    const first = channel.get(undefined);
    const controller = new AbortController();
    const second = channel.get(controller.signal);
    controller.abort();
    await expect(second).rejects.toSatisfy((error: unknown) => NexoraError.is(error, 'aborted'));
    const connection = new Connection();
    finishOpen?.(connection);
    await expect(first).resolves.toBe(connection);
    await expect(channel.get(AbortSignal.timeout(10_000))).resolves.toBe(connection);
  });

  it('rejects at once for a signal aborted before the call', async () => {
    const channel = new Reopening<Connection>({ open: () => new Promise<Connection>(() => undefined), closedMessage: 'closed' });
    await expect(channel.get(AbortSignal.abort())).rejects.toSatisfy((error: unknown) => NexoraError.is(error, 'aborted'));
  });
});
