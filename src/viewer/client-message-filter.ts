/**
 * Splits the browser's client-to-server RFB stream into whole messages, so that input
 * messages can be dropped (view-only) or observed (take-over) without ever forwarding half a
 * message. A message type we cannot frame ends the connection: passing it on blind could
 * smuggle input through.
 */

/** A person's input seen on the wire. */
export type ClientInput = { type: 'key'; down: boolean; keysym: number } | { type: 'pointer'; buttonMask: number; x: number; y: number };

export type FilterVerdict = { kind: 'forward'; bytes: Buffer } | { kind: 'drop'; input: ClientInput } | { kind: 'pass-input'; bytes: Buffer; input: ClientInput };

const KEY_EVENT = 4;
const POINTER_EVENT = 5;

/** Length of the complete message at the start of `buffer`, undefined if more bytes are needed, -1 if unknown. */
export function clientMessageLength(buffer: Buffer): number | undefined {
  if (buffer.length < 1) return undefined;
  const type = buffer[0];
  const need = (header: number, total: (b: Buffer) => number): number | undefined => (buffer.length < header ? undefined : total(buffer));
  switch (type) {
    case 0: // SetPixelFormat
      return 20;
    case 2: // SetEncodings
      return need(4, (b) => 4 + 4 * b.readUInt16BE(2));
    case 3: // FramebufferUpdateRequest
      return 10;
    case KEY_EVENT:
      return 8;
    case POINTER_EVENT:
      return 6;
    case 6: // ClientCutText; a negative length is the extended-clipboard form
      return need(8, (b) => 8 + Math.abs(b.readInt32BE(4)));
    case 150: // EnableContinuousUpdates
      return 10;
    case 248: // ClientFence
      return need(9, (b) => 9 + (b[8] ?? 0));
    case 250: // xvp
      return 4;
    case 251: // SetDesktopSize
      return need(8, (b) => 8 + 16 * (b[6] ?? 0));
    case 255: // QEMU extended key event
      return 12;
    default:
      return -1;
  }
}

/** Incremental framing of the client stream; `accept` decides per input message. */
export class ClientMessageFilter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly allowInput: () => boolean) {}

  /**
   * Feeds bytes from the browser; returns what to do with each complete message. Throws on a
   * message type that cannot be framed.
   */
  push(chunk: Buffer): FilterVerdict[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const verdicts: FilterVerdict[] = [];
    for (;;) {
      const length = clientMessageLength(this.pending);
      if (length === undefined || length > this.pending.length) break;
      if (length < 0) throw new Error(`unsupported RFB client message type ${this.pending[0]}`);
      const message = this.pending.subarray(0, length);
      this.pending = this.pending.subarray(length);
      const input = decodeInput(message);
      if (!input) verdicts.push({ kind: 'forward', bytes: Buffer.from(message) });
      else if (this.allowInput()) verdicts.push({ kind: 'pass-input', bytes: Buffer.from(message), input });
      else verdicts.push({ kind: 'drop', input });
    }
    return verdicts;
  }
}

function decodeInput(message: Buffer): ClientInput | undefined {
  if (message[0] === KEY_EVENT) return { type: 'key', down: message[1] !== 0, keysym: message.readUInt32BE(4) };
  if (message[0] === POINTER_EVENT) return { type: 'pointer', buttonMask: message[1] ?? 0, x: message.readUInt16BE(2), y: message.readUInt16BE(4) };
  // The QEMU extended key event is input too: drop it whenever input is not allowed.
  if (message[0] === 255) return { type: 'key', down: message.readUInt16BE(2) !== 0, keysym: message.readUInt32BE(4) };
  return undefined;
}
