/** A numeric uid and gid (workspace-owner.ts's NumericUser, which imports this file). */
interface UserIds {
  uid: number;
  gid: number;
}

/** One of Nexora's own uids inside the workstation image (see image/files/install-files.sh). */
export interface HelperUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The uids Nexora's helpers run under inside a workstation, apart from the workspace owner's:
 * `display` runs the X and VNC server and alone reads the VNC password; `observer` runs the
 * host's tmux control client. The image defines them with these numbers.
 */
export const WORKSTATION_HELPERS = {
  display: { name: 'nexora-display', uid: 64990, gid: 64990 },
  observer: { name: 'nexora-observer', uid: 64991, gid: 64991 },
} as const satisfies Record<string, HelperUser>;

/**
 * Why a workstation cannot run as this user, when its uid or gid is one of the helpers': the
 * workstation's processes would then own the helpers' files and processes.
 */
export function helperCollision(user: UserIds): string | undefined {
  for (const helper of Object.values(WORKSTATION_HELPERS)) {
    if (user.uid === helper.uid || user.gid === helper.gid) {
      return `uid/gid ${helper.uid} is reserved for ${helper.name}, one of Nexora's helpers inside the workstation`;
    }
  }
  return undefined;
}

/** `uid:gid` of the terminal's observer: its own uid, the workspace owner's group (for the tmux socket's directory). */
export function observerExecUser(owner: UserIds): string {
  return `${WORKSTATION_HELPERS.observer.uid}:${owner.gid}`;
}
