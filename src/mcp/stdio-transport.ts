import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface BoundedStdioTransportOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Largest message taken in; a larger one is answered with an error and the connection lives on. */
  maxMessageBytes?: number;
}

/** Bytes of an oversized message's start and end kept to find its request id. */
const edgeBytes = 512;
const idAtStart = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d{1,16}|"(?:[^"\\]|\\.){0,200}")/;
const idAtEnd = /"id"\s*:\s*(-?\d{1,16}|"(?:[^"\\]|\\.){0,200}")\s*\}\s*$/;

/**
 * MCP over stdin/stdout, one JSON-RPC message a line, with a bound that does not kill the
 * connection. The SDK's own stdio transport closes itself when a line passes its buffer limit
 * (10 MB), so a client that sent one large argument lost its server without a word (and the
 * process exited 0). Here an oversized line is dropped as it streams in — only its first and
 * last bytes are kept, to find its request id — and answered with a JSON-RPC error that says
 * the limit; the next message is read as usual.
 */
export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly input: NodeJS.ReadableStream;
  private readonly output: NodeJS.WritableStream;
  private readonly maxMessageBytes: number;
  private pieces: Buffer[] = [];
  private size = 0;
  /** Set while an oversized line streams in: its first bytes and the latest of its end. */
  private oversized: { head: Buffer; tail: Buffer } | undefined;
  private closed = false;

  constructor(options: BoundedStdioTransportOptions = {}) {
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  }

  start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('error', this.onInputError);
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.output.once('drain', resolve);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('error', this.onInputError);
    this.pieces = [];
    this.oversized = undefined;
    this.onclose?.();
    return Promise.resolve();
  }

  private readonly onInputError = (error: Error): void => this.onerror?.(error);

  private readonly onData = (data: Buffer | string): void => {
    let chunk = typeof data === 'string' ? Buffer.from(data) : data;
    for (;;) {
      const newline = chunk.indexOf(10);
      if (newline < 0) {
        this.take(chunk);
        return;
      }
      this.take(chunk.subarray(0, newline));
      this.endLine();
      chunk = chunk.subarray(newline + 1);
    }
  };

  /** Adds part of the current line, switching to dropping once it passes the bound. */
  private take(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.oversized) {
      this.oversized.tail = Buffer.concat([this.oversized.tail, part]).subarray(-edgeBytes);
      return;
    }
    this.pieces.push(part);
    if (this.size <= this.maxMessageBytes) return;
    const whole = Buffer.concat(this.pieces);
    this.oversized = { head: whole.subarray(0, edgeBytes), tail: Buffer.from(whole.subarray(-edgeBytes)) };
    this.pieces = [];
  }

  private endLine(): void {
    const { oversized, size } = this;
    const line = oversized ? undefined : Buffer.concat(this.pieces).toString('utf8').replace(/\r$/, '');
    this.pieces = [];
    this.size = 0;
    this.oversized = undefined;
    if (oversized) return this.refuseOversized(oversized, size);
    if (!line || line.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.onmessage?.(message);
  }

  private refuseOversized(edges: { head: Buffer; tail: Buffer }, size: number): void {
    const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
    const text = `A message of ${mib(size)} is over this server's limit of ${mib(this.maxMessageBytes)}: send large content as a file in the workspace and pass its path.`;
    this.onerror?.(new Error(text));
    const found = idAtEnd.exec(edges.tail.toString('utf8')) ?? idAtStart.exec(edges.head.toString('utf8'));
    if (!found?.[1]) return;
    const id = JSON.parse(found[1]) as string | number;
    void this.send({ jsonrpc: '2.0', id, error: { code: -32600, message: text } });
  }
}
