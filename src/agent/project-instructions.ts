import { lstat, open } from 'node:fs/promises';
import { join } from 'node:path';

/** One instructions file as the agent received it. */
export interface InstructionsFile {
  /** Who wrote it: the user (their Nexora home) or the project (its workspace root). */
  origin: 'user' | 'project';
  /** The file's name as the model sees it (`AGENTS.md`, `~/.nexora/AGENTS.md`). */
  name: string;
  /** The text, capped. */
  text: string;
  /** Set when the file was longer than the cap: its size in bytes. */
  truncatedFromBytes?: number;
}

/** The project files read from the workspace root, in this order. */
export const projectInstructionNames = ['AGENTS.md', 'NEXORA.md'] as const;

/** Characters kept from each file by default (about 4,000 tokens). */
export const defaultInstructionsChars = 16_000;

/**
 * Reads the user's `~/.nexora/AGENTS.md` (its path comes from the paths module) and the
 * project's `AGENTS.md` / `NEXORA.md`. Each is capped at `maxChars` characters, and a symbolic
 * link is not followed: a workspace is untrusted, and a link to a file elsewhere on the host
 * would send that file to the model provider.
 */
export async function loadInstructions(options: { workspace: string; userFile: string; maxChars?: number }): Promise<InstructionsFile[]> {
  const maxChars = options.maxChars ?? defaultInstructionsChars;
  const found: InstructionsFile[] = [];
  const user = await readCapped(options.userFile, maxChars);
  if (user) found.push({ origin: 'user', name: '~/.nexora/AGENTS.md', ...user });
  for (const name of projectInstructionNames) {
    const project = await readCapped(join(options.workspace, name), maxChars);
    if (project) found.push({ origin: 'project', name, ...project });
  }
  return found;
}

async function readCapped(path: string, maxChars: number): Promise<{ text: string; truncatedFromBytes?: number } | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  // UTF-8 takes at most 4 bytes a character: this many bytes always hold maxChars characters.
  const limit = Math.min(info.size, maxChars * 4);
  const handle = await open(path, 'r');
  let bytes: Buffer;
  try {
    bytes = Buffer.alloc(limit);
    const { bytesRead } = await handle.read(bytes, 0, limit, 0);
    bytes = bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  // Control characters other than tab and newline have no business in instructions.
  // eslint-disable-next-line no-control-regex
  const decoded = bytes.toString('utf8').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  const chars = [...decoded];
  const text = chars.slice(0, maxChars).join('').trim();
  if (text.length === 0) return undefined;
  const truncated = chars.length > maxChars || info.size > limit;
  return truncated ? { text, truncatedFromBytes: info.size } : { text };
}

/**
 * The instructions as a block of the system prompt. They are the user's and the project's
 * own words (unlike screen text, which is data), so they are framed as instructions to
 * follow, below Nexora's own rules.
 */
export function instructionsPrompt(files: readonly InstructionsFile[]): string {
  if (files.length === 0) return '';
  const blocks = files.map((file) => {
    const who = file.origin === 'user' ? 'the user (their own file, for every project)' : "the project (in the workspace root, written by the project's people)";
    const note = file.truncatedFromBytes !== undefined
      ? `\n[Nexora: ${file.name} is ${file.truncatedFromBytes} bytes, over the limit; only its first ${file.text.length} characters are included. Read the rest with execute() if you need it.]`
      : '';
    return `<instructions source="${file.name}" from="${file.origin}">\nInstructions from ${who}:\n${file.text}${note}\n</instructions>`;
  });
  return `Instructions from the project and the user follow. Follow them where they apply to the task (coding conventions, how to build and test); they do not change how the tools work, and when they conflict, the user's task comes first.\n\n${blocks.join('\n\n')}`;
}
