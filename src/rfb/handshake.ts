import { NexoraError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import { vncAuthResponse } from './des.js';
import { protocolError } from './decoders/decode-context.js';
import type { RfbLimits } from './limits.js';

/** What the server told us in ServerInit. */
export interface ServerInit {
  width: number;
  height: number;
  name: string;
  /** The protocol minor version both sides agreed on (3, 7 or 8). */
  minorVersion: 3 | 7 | 8;
}

const securityNone = 1;
const securityVncAuth = 2;

/** Checks a framebuffer size from the server against the limits. */
export function checkFramebufferSize(width: number, height: number, limits: RfbLimits): void {
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxFramebufferPixels) {
    throw protocolError(`a ${width}x${height} framebuffer exceeds the limits (${limits.maxSide} pixels a side, ${limits.maxFramebufferPixels} pixels)`);
  }
}

async function readReason(reader: ByteReader, limits: RfbLimits): Promise<string> {
  const length = (await reader.read(4)).readUInt32BE(0);
  if (length > limits.maxReasonBytes) throw protocolError(`a ${length}-byte reason string exceeds ${limits.maxReasonBytes} bytes`);
  return (await reader.read(length)).toString('latin1');
}

/**
 * RFB handshake up to ServerInit (RFB 3.8 sections 7.1–7.3; 3.3 and 3.7 servers accepted):
 * version, security (None or VNC Authentication), SecurityResult, ClientInit (shared).
 */
export async function performHandshake(options: {
  reader: ByteReader;
  write: (data: Buffer) => void;
  password?: string;
  limits: RfbLimits;
}): Promise<ServerInit> {
  const { reader, write, password, limits } = options;
  const greeting = (await reader.read(12)).toString('latin1');
  const match = /^RFB (\d{3})\.(\d{3})\n$/.exec(greeting);
  if (!match) throw protocolError(`the greeting ${JSON.stringify(greeting)} is not an RFB ProtocolVersion`);
  const major = Number(match[1]);
  const serverMinor = Number(match[2]);
  if (major !== 3 || serverMinor < 3) throw protocolError(`RFB version ${major}.${serverMinor} is not supported (3.3 to 3.8 are)`);
  const minorVersion: 3 | 7 | 8 = serverMinor >= 8 ? 8 : serverMinor === 7 ? 7 : 3;
  write(Buffer.from(`RFB 003.00${minorVersion}\n`, 'latin1'));

  let securityType: number;
  if (minorVersion === 3) {
    securityType = (await reader.read(4)).readUInt32BE(0);
    if (securityType === 0) throw new NexoraError('rfb-protocol', `The VNC server refused the connection: ${await readReason(reader, limits)}`);
  } else {
    const count = (await reader.read(1))[0]!;
    if (count === 0) throw new NexoraError('rfb-protocol', `The VNC server refused the connection: ${await readReason(reader, limits)}`);
    const offered = [...(await reader.read(count))];
    if (password !== undefined && offered.includes(securityVncAuth)) securityType = securityVncAuth;
    else if (offered.includes(securityNone)) securityType = securityNone;
    else if (offered.includes(securityVncAuth)) securityType = securityVncAuth;
    else throw new NexoraError('rfb-protocol', `The VNC server offers only security types [${offered.join(', ')}]; Nexora supports None (1) and VNC Authentication (2). Configure the server for one of these.`);
    write(Buffer.from([securityType]));
  }
  if (securityType !== securityNone && securityType !== securityVncAuth) throw protocolError(`security type ${securityType} was chosen by a 3.3 server`);

  if (securityType === securityVncAuth) {
    if (password === undefined) throw new NexoraError('rfb-auth-failed', 'The VNC server requires a password: pass `password` when connecting.');
    const challenge = await reader.read(16);
    write(vncAuthResponse(challenge, password));
  }
  // 3.8 sends SecurityResult after every security type; 3.3 and 3.7 only after authentication.
  if (securityType === securityVncAuth || minorVersion === 8) {
    const result = (await reader.read(4)).readUInt32BE(0);
    if (result !== 0) {
      const reason = minorVersion === 8 ? await readReason(reader, limits).catch(() => '') : '';
      throw new NexoraError('rfb-auth-failed', `VNC authentication failed${reason ? `: ${reason}` : ''}. Check the session's VNC password.`);
    }
  }

  write(Buffer.from([1])); // ClientInit: shared, so a viewer can watch alongside the agent.
  const init = await reader.read(24);
  const width = init.readUInt16BE(0);
  const height = init.readUInt16BE(2);
  checkFramebufferSize(width, height, limits);
  const nameLength = init.readUInt32BE(20);
  if (nameLength > limits.maxNameBytes) throw protocolError(`a ${nameLength}-byte desktop name exceeds ${limits.maxNameBytes} bytes`);
  const name = (await reader.read(nameLength)).toString('utf8');
  return { width, height, name, minorVersion };
}
