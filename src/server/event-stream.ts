import type { ServerResponse } from 'node:http';

/** Server-sent events on one response: `event: NAME`, `data: JSON`. */
export interface EventStreamWriter {
  send(event: string, data: unknown): void;
  end(): void;
  readonly closed: boolean;
}

export function openEventStream(response: ServerResponse): EventStreamWriter {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  // Headers out now: the client learns at once that it is queued or running.
  response.flushHeaders();
  let closed = false;
  response.on('close', () => (closed = true));
  return {
    send(event, data) {
      if (closed) return;
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (closed) return;
      closed = true;
      response.end();
    },
    get closed() {
      return closed;
    },
  };
}
