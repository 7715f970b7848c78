import { readFileSync } from 'node:fs';
import { replayScriptSchema, type ReplayScript } from '../agent/replay-script.js';
import { describeError, NexoraError } from '../errors.js';

/** Reads and validates a script file, saying what is wrong with a bad one. */
export function readReplayScript(file: string): ReplayScript {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new NexoraError('invalid-argument', `Cannot read the script ${file}: ${describeError(error)}.`);
  }
  const parsed = replayScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NexoraError('invalid-argument', `${file} is not a Nexora script: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}. Write one with \`nexora session replay ID --export script\`.`);
  }
  return parsed.data;
}
