import type Docker from 'dockerode';
import { planGitProtection, type ProtectedGitPath } from '../workspace-git-layout.js';

type Mount = NonNullable<NonNullable<Docker.ContainerCreateOptions['HostConfig']>['Mounts']>[number];

/**
 * The workspace at /workspace, with the parts of its git metadata that could make git on the
 * host run a program bound read-only over it (see planGitProtection). Pass the plan when the
 * caller also needs its fingerprint, so that both come from one look at the disk.
 */
export function workspaceMounts(workspaceDir: string, plan: readonly ProtectedGitPath[] = planGitProtection(workspaceDir)): Mount[] {
  return [
    { Type: 'bind', Source: workspaceDir, Target: '/workspace', ReadOnly: false },
    ...plan.map((path): Mount => ({ Type: 'bind', Source: path.source, Target: path.target, ReadOnly: path.readOnly })),
  ];
}
