import { replayScriptSchema, type ReplayScript } from '../agent/replay-script.js';
import { describeError, NexoraError } from '../errors.js';
import { readRegularFile } from '../safe-file/index.js';

/** Scripts larger than this are refused: a real one is a few kilobytes of steps. */
const MAX_SCRIPT_BYTES = 8 * 1024 * 1024;

/**
 * Reads and validates a script file, saying what is wrong with a bad one. The user named it, so
 * a link in its path is theirs to follow; but it must be a regular file (a FIFO would hang the
 * read) and bounded, and a parse error never quotes its bytes.
 */
export async function readReplayScript(file: string, options: { signal?: AbortSignal } = {}): Promise<ReplayScript> {
  let text: string;
  try {
    const read = await readRegularFile({ path: file, maxBytes: MAX_SCRIPT_BYTES, ...(options.signal ? { signal: options.signal } : {}) });
    if (!read) throw new NexoraError('not-found', `${file} does not exist`);
    text = read.bytes.toString('utf8');
  } catch (error) {
    throw new NexoraError('invalid-argument', `Cannot read the script ${file}: ${describeError(error)}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the fault: say where, not what.
    throw new NexoraError('invalid-argument', `${file} is not valid JSON: write one with \`nexora session replay ID --export script\`.`);
  }
  const parsed = replayScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NexoraError('invalid-argument', `${file} is not a Nexora script: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}. Write one with \`nexora session replay ID --export script\`.`);
  }
  return parsed.data;
}
