/**
 * What every workstation image carries besides its files, whichever way it is built. The
 * Dockerfile repeats the environment (a unit test keeps the two equal).
 */

/** The image's repository; the tag is the definition hash. */
export const imageRepository = 'nexora-workstation';

/** Labels on every workstation image. */
export const imageLabel = {
  kind: 'dev.nexora.image',
  definition: 'dev.nexora.image.definition',
  recipe: 'dev.nexora.image.recipe',
} as const;

/** The uid/gid the image's `nexora` user has; sessions usually run as the workspace owner. */
export const imageUser = '1000:1000';
export const imageWorkdir = '/workspace';
export const imageEntrypoint = ['/opt/nexora/start.sh'];

/** Environment of every process in the container, `docker exec` included. */
export const imageEnvironment: ReadonlyArray<readonly [string, string]> = [
  ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  ['LANG', 'C.UTF-8'],
  ['HOME', '/home/nexora'],
  ['SHELL', '/bin/bash'],
  ['DISPLAY', ':1'],
  ['NEXORA_GEOMETRY', '1280x800'],
  ['NEXORA_VNC_PORT', '5900'],
  ['NEXORA_CDP_PORT', '9222'],
  // screen's default, /run/screen, is on the read-only root in a hardened session.
  ['SCREENDIR', '/run/nexora/screen'],
  // Names any uid through files start.sh writes (see start.sh for why this is safe).
  ['LD_PRELOAD', 'libnss_wrapper.so'],
  ['NSS_WRAPPER_PASSWD', '/run/nexora/passwd'],
  ['NSS_WRAPPER_GROUP', '/run/nexora/group'],
];

/** Dockerfile instructions for `docker import`'s `changes` (the Engine API's import takes the same). */
export function importChanges(labels: Readonly<Record<string, string>>): string[] {
  return [
    ...imageEnvironment.map(([name, value]) => `ENV ${name}=${value}`),
    `USER ${imageUser}`,
    `WORKDIR ${imageWorkdir}`,
    `ENTRYPOINT ${JSON.stringify(imageEntrypoint)}`,
    ...Object.entries(labels).map(([name, value]) => `LABEL ${name}=${JSON.stringify(value)}`),
  ];
}
