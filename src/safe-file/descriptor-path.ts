import { statSync } from 'node:fs';
import { NexoraError } from '../errors.js';

/*
 * Node has no openat(2). On Linux, /proc/self/fd/<fd> is a "magic link": the kernel resolves it
 * to the very file the descriptor holds (its dentry, not its name), so `/proc/self/fd/<dirfd>/name`
 * looks `name` up in the directory we already hold open — exactly what openat(dirfd, "name")
 * does. Renaming or replacing that directory afterwards changes nothing: the lookup never passes
 * through a path a workspace process can swap. O_NOFOLLOW still applies to `name`, the last
 * component, so a link planted there is refused with ELOOP instead of being followed. (The
 * alternative — open by full path, then compare dev/ino with an lstat — leaves a window between
 * the two calls in every component; this has none.)
 */

let checked = false;

/** The path the kernel resolves as `name` inside the directory open as `directoryFd` (or the directory itself). */
export function entryPath(directoryFd: number, name?: string): string {
  if (!checked) {
    if (!statSync('/proc/self/fd', { throwIfNoEntry: false })?.isDirectory()) {
      throw new NexoraError('unsupported-platform', 'Nexora opens workspace files through /proc/self/fd, which is missing here: run Nexora on Linux with /proc mounted.');
    }
    checked = true;
  }
  return name === undefined ? `/proc/self/fd/${directoryFd}` : `/proc/self/fd/${directoryFd}/${name}`;
}

/** Refuses anything but one plain name: no separator, no `.` or `..`, no NUL. */
export function isEntryName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}
