// One way for the host to touch files a workstation or a repository can write: by descriptor,
// without following links, regular files only, bounded, written by temporary file and rename.
export { entryPath } from './descriptor-path.js';
export { copyTree, maxCopyDepth, type CopyLimits, type CopyResult } from './copy-tree.js';
export { readFileUnder, readRegularFile, writeFileUnder } from './file-under.js';
export type { FileRead } from './read-bounded.js';
export { FileRefusedError, refusalReason, type RefusalReason } from './refusal.js';
export { SafeDirectory, type DirectoryEntry, type WriteResult } from './safe-directory.js';
