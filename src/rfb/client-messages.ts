/** Encoders for the client-to-server messages of RFB 3.8 (section 7.5). */

/**
 * SetPixelFormat: 32 bits a pixel, depth 24, little-endian, true colour, red in the lowest
 * byte, so a pixel on the wire is R, G, B, X: mirroring into RGBA is a copy.
 */
export function encodeSetPixelFormat(): Buffer {
  const message = Buffer.alloc(20);
  message[0] = 0;
  message[4] = 32; // bits per pixel
  message[5] = 24; // depth
  message[6] = 0; // big-endian flag
  message[7] = 1; // true colour
  message.writeUInt16BE(255, 8);
  message.writeUInt16BE(255, 10);
  message.writeUInt16BE(255, 12);
  message[14] = 0; // red shift
  message[15] = 8; // green shift
  message[16] = 16; // blue shift
  return message;
}

export function encodeSetEncodings(encodings: readonly number[]): Buffer {
  const message = Buffer.alloc(4 + 4 * encodings.length);
  message[0] = 2;
  message.writeUInt16BE(encodings.length, 2);
  encodings.forEach((encoding, index) => message.writeInt32BE(encoding, 4 + 4 * index));
  return message;
}

export function encodeFramebufferUpdateRequest(options: { incremental: boolean; x: number; y: number; width: number; height: number }): Buffer {
  const message = Buffer.alloc(10);
  message[0] = 3;
  message[1] = options.incremental ? 1 : 0;
  message.writeUInt16BE(options.x, 2);
  message.writeUInt16BE(options.y, 4);
  message.writeUInt16BE(options.width, 6);
  message.writeUInt16BE(options.height, 8);
  return message;
}

/** Writes one KeyEvent (8 bytes) at `offset` of `target`. */
export function writeKeyEvent(target: Buffer, offset: number, keysym: number, down: boolean): void {
  target[offset] = 4;
  target[offset + 1] = down ? 1 : 0;
  target[offset + 2] = 0;
  target[offset + 3] = 0;
  target.writeUInt32BE(keysym >>> 0, offset + 4);
}

export function encodePointerEvent(x: number, y: number, buttonMask: number): Buffer {
  const message = Buffer.alloc(6);
  message[0] = 5;
  message[1] = buttonMask;
  message.writeUInt16BE(x, 2);
  message.writeUInt16BE(y, 4);
  return message;
}

/** ClientCutText carries Latin-1 text. */
export function encodeClientCutText(text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  const message = Buffer.alloc(8 + body.length);
  message[0] = 6;
  message.writeUInt32BE(body.length, 4);
  body.copy(message, 8);
  return message;
}
