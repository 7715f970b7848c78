import { z } from 'zod';

const messageSchema = z
  .object({
    status: z.string().optional(),
    stream: z.string().optional(),
    error: z.string().optional(),
    errorDetail: z.object({ message: z.string().optional() }).optional(),
    aux: z.object({ ID: z.string().optional() }).optional(),
  })
  .loose();

export type EngineMessage = z.infer<typeof messageSchema>;

/**
 * Reads an Engine API progress stream (newline-separated JSON objects, as /build and
 * /images/create send) to its end, handing each message to `onMessage`. Resolves with all
 * messages; an `error` message rejects with its text.
 */
export async function readEngineStream(stream: NodeJS.ReadableStream, onMessage: (message: EngineMessage) => void = () => undefined): Promise<EngineMessage[]> {
  const messages: EngineMessage[] = [];
  let pending = '';
  let failure: string | undefined;
  const handle = (line: string): void => {
    if (line.trim().length === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = { stream: line };
    }
    const message = messageSchema.safeParse(parsed);
    if (!message.success) return;
    messages.push(message.data);
    if (message.data.error !== undefined) failure ??= message.data.error || message.data.errorDetail?.message || 'unknown error';
    onMessage(message.data);
  };
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(pending);
  if (failure !== undefined) throw new Error(failure);
  return messages;
}
