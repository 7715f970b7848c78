import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * A model script: the turns a scripted model plays, in order, and what it expects to have
 * been sent before each one. Fixtures are JSON files of this shape.
 */
const toolCallSchema = z.strictObject({
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

const usageSchema = z.strictObject({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cached: z.number().int().nonnegative().default(0),
});

const expectSchema = z.strictObject({
  /** Text that must appear in the tool results sent back for the previous turn's calls. */
  toolResultIncludes: z.array(z.string()).optional(),
  /** Whether a PNG must (true) or must not (false) be attached to the latest tool results. */
  imageAttached: z.boolean().optional(),
  /** The request's model name. */
  model: z.string().optional(),
  /** Text that must appear in the system prompt or the first user message. */
  systemIncludes: z.array(z.string()).optional(),
  /** Text that must appear somewhere in the messages (text, tool calls' arguments, tool results). */
  historyIncludes: z.array(z.string()).optional(),
  /** At least this many tool results in the whole request (earlier turns included). */
  minToolResults: z.number().int().nonnegative().optional(),
});

const respondSchema = z.strictObject({
  text: z.string().optional(),
  toolCalls: z.array(toolCallSchema).default([]),
  usage: usageSchema.default({ input: 100, output: 20, cached: 0 }),
  /** Delay before the response starts (to exercise interrupts mid-step). */
  delayMs: z.number().int().nonnegative().default(0),
});

const faultSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  retryAfterSeconds: z.number().nonnegative().optional(),
  message: z.string().default('injected fault'),
});

export const turnSchema = z.union([
  z.strictObject({ expect: expectSchema.optional(), respond: respondSchema }),
  z.strictObject({ fault: faultSchema }),
]);

export const scriptSchema = z.strictObject({
  name: z.string(),
  /** Tools every request must declare, each with an object JSON schema. */
  requireTools: z.array(z.string()).default([]),
  /** A text-only model: any image in any request is a violation. */
  forbidImages: z.boolean().default(false),
  /** Replay the turns round-robin for any number of independent requests. */
  loop: z.boolean().default(false),
  turns: z.array(turnSchema).min(1),
});

export type ScriptTurn = z.infer<typeof turnSchema>;
export type ScriptRespond = z.infer<typeof respondSchema>;
export type ScriptFault = z.infer<typeof faultSchema>;
export type ModelScript = z.infer<typeof scriptSchema>;
export type ModelScriptInput = z.input<typeof scriptSchema>;

export function parseScript(input: unknown): ModelScript {
  return scriptSchema.parse(input);
}

/** Loads a fixture from test/model-server/fixtures by name (without .json). */
export async function loadFixture(name: string): Promise<ModelScript> {
  const url = new URL(`./fixtures/${name}.json`, import.meta.url);
  const parsed: unknown = JSON.parse(await readFile(url, 'utf8'));
  return parseScript(parsed);
}
