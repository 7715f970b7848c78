import { z } from 'zod';
import { NexoraError } from '../errors.js';

const positiveInteger = z.number().int().positive();

/** The plain-data part of RfbConnectOptions (the signal is checked by the runtime). */
export const rfbConnectOptionsSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  password: z.string().optional(),
  timeoutMs: positiveInteger.optional(),
  reconnect: z
    .union([
      z.literal(false),
      z.object({ attempts: positiveInteger.optional(), initialDelayMs: positiveInteger.optional(), maxDelayMs: positiveInteger.optional() }),
    ])
    .optional(),
  encodings: z.array(z.enum(['zrle', 'zlib', 'hextile', 'copyRect', 'raw'])).min(1).optional(),
  limits: z
    .object({
      maxSide: positiveInteger,
      maxFramebufferPixels: positiveInteger,
      maxNameBytes: positiveInteger,
      maxCutTextBytes: positiveInteger,
      maxReasonBytes: positiveInteger,
      maxUpdatePixels: positiveInteger,
      maxBufferedBytes: positiveInteger,
    })
    .partial()
    .optional(),
});

/** Rejects connect options that could never work, naming the field. */
export function checkConnectOptions(options: unknown): void {
  const result = rfbConnectOptionsSchema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'options';
  throw new NexoraError('invalid-argument', `Invalid VNC connect option ${field}: ${issue?.message ?? 'invalid'}. The port must be 1-65535 and times positive integers in ms.`);
}
