import type Docker from 'dockerode';
import { NexoraError } from '../../errors.js';
import type { ProtectedGitPath } from '../workspace-git-layout.js';
import { execInContainer } from './exec.js';

/**
 * Docker resolves a bind mount's source when the container starts, following links: a `.git`
 * or `.git/config` swapped for a link between the plan and the start would put a host path
 * inside the workstation. The engine offers no "do not follow" for a bind, so the container, once
 * started (only our own start script runs yet), says what it has at each mount point, and that
 * must be the very file or directory planned (device and inode). Throws when it is not.
 */
export async function verifyGitMounts(docker: Docker, containerId: string, plan: readonly ProtectedGitPath[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  if (plan.length === 0) return;
  const result = await execInContainer(docker, containerId, {
    cmd: ['stat', '-c', '%d %i', '--', ...plan.map((path) => path.target)],
    user: '0',
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const lines = result.stdout.trim().split('\n');
  const wrong = plan.filter((path, index) => lines[index] !== `${path.device} ${path.inode}`);
  if (result.exitCode !== 0 || lines.length !== plan.length || wrong.length > 0) {
    const names = (wrong.length > 0 ? wrong : plan).map((path) => path.target).slice(0, 4).join(', ');
    throw new NexoraError('unsafe-workspace', `The workstation did not get the workspace's own git metadata at ${names}: it was replaced (perhaps by a link to elsewhere on this machine) while the workstation started. Check the workspace's .git, then start the session again.`);
  }
}
