import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { BoundedStdioTransport } from './stdio-transport.js';

function pair(maxMessageBytes: number): { transport: BoundedStdioTransport; input: PassThrough; sent: () => unknown[]; received: JSONRPCMessage[]; errors: string[] } {
  const input = new PassThrough();
  const output = new PassThrough();
  const lines: string[] = [];
  output.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const transport = new BoundedStdioTransport({ input, output, maxMessageBytes });
  const received: JSONRPCMessage[] = [];
  const errors: string[] = [];
  transport.onmessage = (message) => received.push(message);
  transport.onerror = (error) => errors.push(error.message);
  void transport.start();
  return { transport, input, sent: () => lines.map((line) => JSON.parse(line) as unknown), received, errors };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BoundedStdioTransport', () => {
  it('reads messages split across chunks and several in one chunk', async () => {
    const { input, received } = pair(1000);
    input.write('{"jsonrpc":"2.0","id":1,"met');
    input.write('hod":"ping"}\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n');
    await flush();
    expect(received).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 2, method: 'ping' }]);
  });

  it('answers an oversized request with an error naming the limit, by the id at its end or its start, and reads on', async () => {
    const { input, received, sent, errors } = pair(1000);
    input.write(`{"method":"tools/call","params":{"text":"${'a'.repeat(3000)}`);
    input.write(`${'b'.repeat(3000)}"},"jsonrpc":"2.0","id":7}\n`);
    input.write(`{"jsonrpc":"2.0","id":"s-8","method":"tools/call","params":{"text":"${'c'.repeat(5000)}"}}\n`);
    input.write('{"jsonrpc":"2.0","id":9,"method":"ping"}\n');
    await flush();
    expect(sent()).toEqual([
      { jsonrpc: '2.0', id: 7, error: { code: -32600, message: expect.stringMatching(/over this server's limit/) as unknown } },
      { jsonrpc: '2.0', id: 's-8', error: { code: -32600, message: expect.stringMatching(/over this server's limit/) as unknown } },
    ]);
    expect(received).toEqual([{ jsonrpc: '2.0', id: 9, method: 'ping' }]);
    expect(errors).toHaveLength(2);
  });

  it('reports a line that is not JSON-RPC and goes on', async () => {
    const { input, received, errors } = pair(1000);
    input.write('not json\n{"jsonrpc":"2.0","id":3,"method":"ping"}\n');
    await flush();
    expect(errors).toHaveLength(1);
    expect(received).toHaveLength(1);
  });
});
