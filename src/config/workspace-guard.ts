import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NexoraError } from '../errors.js';
import { nexoraPaths, userHome } from '../paths.js';

export interface WorkspaceGuardOptions {
  env?: NodeJS.ProcessEnv;
  /** The user's home directory (default: $HOME). */
  home?: string;
  /** The account database other users' homes are read from (default: /etc/passwd). */
  passwdFile?: string;
}

interface Protected {
  path: string;
  reason: string;
}

/**
 * Checks that a directory is safe to mount read-write into a workstation, and returns its real
 * path (symlinks resolved, so a link named `project` that points at `~` is refused too).
 *
 * Whatever is mounted is in reach of the model and of anything a hostile repository makes it
 * run. Refused: `/`; any directory that contains the user's home, the Nexora home (master key,
 * key store, database), the Docker socket (root on the host) or ~/.ssh; system directories
 * and anything under them; credential directories; shared roots such as /home or /tmp.
 */
export function checkWorkspace(dir: string, options: WorkspaceGuardOptions = {}): string {
  const absolute = resolve(dir);
  let real: string;
  try {
    real = realpathSync.native(absolute);
  } catch {
    throw new NexoraError('invalid-argument', `Invalid workspace: ${absolute} does not exist. Pass a project directory with --workspace DIR.`);
  }
  if (!statSync(real).isDirectory()) throw new NexoraError('invalid-argument', `Invalid workspace: ${absolute} is not a directory.`);
  const reason = unsafeReason(real, options);
  if (reason === undefined) return real;
  const shown = real === absolute ? real : `${absolute} (${real})`;
  throw new NexoraError(
    'unsafe-workspace',
    `Refusing to use ${shown} as the workspace: it ${reason}. Everything under the workspace is mounted read-write into the workstation, where the model (and anything a hostile file makes it run) can read and change it. ` +
      'Use the project directory itself: `cd` into it, or pass --workspace DIR (e.g. mkdir ~/projects/demo && nexora run --workspace ~/projects/demo "…").',
  );
}

/** Why `real` must not be a workspace, or undefined when it may. */
export function unsafeReason(real: string, options: WorkspaceGuardOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const home = realOrSelf(options.home ?? userHome());
  const nexoraHome = realOrSelf(nexoraPaths(env).home);
  const others = otherHomes(home, options.passwdFile);
  if (real === '/') return 'is the root of the host filesystem';
  if (real === home) return 'is your home directory (SSH keys, shell history, cloud credentials and Nexora’s own data)';

  const mustNotContain: Protected[] = [
    { path: home, reason: 'contains your home directory' },
    { path: nexoraHome, reason: `contains Nexora’s home ${nexoraHome} (the master key, the encrypted API keys and the database)` },
    { path: join(home, '.ssh'), reason: 'contains your SSH keys (~/.ssh)' },
    ...dockerSockets(env).map((socket) => ({ path: socket, reason: `contains the Docker socket ${socket} (full control of the host)` })),
    ...others.map((path) => ({ path, reason: `contains another user's home directory (${path})` })),
  ];
  for (const entry of mustNotContain) if (isWithin(entry.path, real)) return entry.reason;

  const mustNotBeInside: Protected[] = [
    ...systemDirectories.map((path) => ({ path, reason: `is a system directory (${path})` })),
    ...credentialDirectories.map((name) => ({ path: join(home, name), reason: `holds credentials (~/${name})` })),
    ...others.flatMap((other) => credentialDirectories.map((name) => ({ path: join(other, name), reason: `holds another user's credentials (${join(other, name)})` }))),
    { path: join(nexoraHome, 'secrets'), reason: 'is Nexora’s key directory' },
    { path: join(nexoraHome, 'db'), reason: 'is Nexora’s database' },
  ];
  for (const entry of mustNotBeInside) {
    const path = realOrSelf(entry.path);
    // /root is a system directory unless it is this user's home (root's projects live there).
    if (path === '/root' && home === '/root' && real !== '/root') continue;
    if (!isWithin(real, path)) continue;
    if (temporaryExceptions.some((allowed) => isWithin(real, allowed) && real !== allowed)) continue;
    return entry.reason;
  }
  if (sharedRoots.some((root) => realOrSelf(root) === real)) return 'is a directory shared by every user or project on the host';
  return undefined;
}

const systemDirectories = [
  '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/proc', '/sys', '/dev', '/run', '/var', '/root', '/snap',
  '/System', '/Library', '/private/etc', '/private/var',
];
/** Temporary directories below system ones (macOS's per-user temp lives in /private/var/folders). */
const temporaryExceptions = ['/var/tmp', '/var/folders', '/private/var/folders', '/private/var/tmp'];
const sharedRoots = ['/home', '/Users', '/tmp', '/var/tmp', '/opt', '/srv', '/mnt', '/media', '/private/tmp'];
/**
 * Below a home, where programs keep tokens and keys: `.config` (gh, gcloud, GitHub Copilot and
 * most XDG programs), `.local` (keyrings, application data), browser and mail profiles (saved
 * passwords, cookies), password stores, and build tools' credential files.
 */
const credentialDirectories = [
  '.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.config', '.local', '.mozilla', '.thunderbird', '.password-store', '.pki',
  '.cargo', '.m2', '.gradle', '.terraform.d', '.oci', '.vault-token',
];

/**
 * Other accounts' home directories (from the passwd file), so one user's workspace can never
 * mount another's secrets. System accounts whose "home" is a shared or system directory (`/`,
 * `/nonexistent`, `/var/…`) are left to the other rules.
 */
function otherHomes(home: string, passwdFile = '/etc/passwd'): string[] {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return [];
  }
  const homes = new Set<string>();
  for (const line of text.split('\n')) {
    const dir = line.split(':')[5];
    if (!dir?.startsWith('/') || dir === '/') continue;
    const real = realOrSelf(dir);
    if (real === home || real === '/' || sharedRoots.includes(real) || systemDirectories.some((system) => isWithin(real, system) && real !== '/root')) continue;
    if (!statSync(real, { throwIfNoEntry: false })?.isDirectory()) continue;
    homes.add(real);
  }
  return [...homes];
}

function dockerSockets(env: NodeJS.ProcessEnv): string[] {
  const sockets = ['/var/run/docker.sock', '/run/docker.sock'];
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) sockets.push(host.slice('unix://'.length));
  return [...new Set(sockets.map(realOrSelf))];
}

/** True when `path` is `parent` or below it. */
function isWithin(path: string, parent: string): boolean {
  if (parent === '/') return true;
  return path === parent || path.startsWith(`${parent}/`);
}

/** The real path of the longest existing prefix, so a home that does not exist yet still compares right. */
function realOrSelf(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    const parent = resolve(absolute, '..');
    if (parent === absolute) return absolute;
    return join(realOrSelf(parent), absolute.slice(parent.length + (parent === '/' ? 0 : 1)));
  }
}
