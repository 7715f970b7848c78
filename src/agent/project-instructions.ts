import { readFileUnder, readRegularFile, refusalReason, type FileRead } from '../safe-file/index.js';

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
 * project's `AGENTS.md` / `NEXORA.md`. Each is capped at `maxChars` characters. The project's
 * files are read through safe-file: a link, a FIFO or anything but a regular file in the
 * workspace root is skipped, never followed or opened, so a workspace (untrusted) cannot send
 * another file of the host to the model provider, even by swapping names while we read.
 */
export async function loadInstructions(options: { workspace: string; userFile: string; maxChars?: number; signal?: AbortSignal }): Promise<InstructionsFile[]> {
  const maxChars = options.maxChars ?? defaultInstructionsChars;
  // UTF-8 takes at most 4 bytes a character: this many bytes always hold maxChars characters.
  const maxBytes = maxChars * 4;
  const signal = options.signal ? { signal: options.signal } : {};
  const found: InstructionsFile[] = [];
  // The user's own file may be a link (a dotfiles manager's): it is theirs, so it is followed.
  const user = decode(await skipRefused(readRegularFile({ path: options.userFile, maxBytes, oversize: 'truncate', ...signal })), maxChars);
  if (user) found.push({ origin: 'user', name: '~/.nexora/AGENTS.md', ...user });
  for (const name of projectInstructionNames) {
    const project = decode(await skipRefused(readFileUnder({ root: options.workspace, path: name, maxBytes, oversize: 'truncate', ...signal })), maxChars);
    if (project) found.push({ origin: 'project', name, ...project });
  }
  return found;
}

/** A file that is not a regular file (a link, a FIFO…) is not instructions: skipped, as if absent. */
async function skipRefused(read: Promise<FileRead | undefined>): Promise<FileRead | undefined> {
  return read.catch((error: unknown) => {
    if (refusalReason(error) !== undefined) return undefined;
    throw error;
  });
}

function decode(read: FileRead | undefined, maxChars: number): { text: string; truncatedFromBytes?: number } | undefined {
  if (!read) return undefined;
  // Control characters other than tab and newline have no business in instructions.
  // eslint-disable-next-line no-control-regex
  const decoded = read.bytes.toString('utf8').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  const chars = [...decoded];
  const text = chars.slice(0, maxChars).join('').trim();
  if (text.length === 0) return undefined;
  const truncated = chars.length > maxChars || read.truncated;
  return truncated ? { text, truncatedFromBytes: read.sizeBytes } : { text };
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
