import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { NexoraError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { imageRepository } from './image-config.js';
import { parsePackageList, type PackageEntry } from './package-list.js';

/**
 * Bumped whenever the build recipe in TypeScript changes what lands in the image (mmdebstrap
 * options, import changes, labels), so the tag changes with it.
 */
export const imageRecipeVersion = 1;

/** The folder with packages.txt, the start scripts, their configuration and the Dockerfile. */
export function imageFilesDirectory(): string {
  return join(packageRoot(), 'src', 'workstation', 'image', 'files');
}

export interface ImageDefinition {
  filesDirectory: string;
  /** Paths relative to filesDirectory, sorted, `/`-separated. */
  files: string[];
  packages: PackageEntry[];
  /** sha256 over the recipe version and every file's path, mode and content. */
  hash: string;
  /** `nexora-workstation:<first 12 hex of the hash>`. */
  tag: string;
}

function listFiles(directory: string): string[] {
  const found: string[] = [];
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) found.push(relative(directory, path).split(sep).join('/'));
    }
  };
  visit(directory);
  return found.sort();
}

/** Reads the image's definition from disk and hashes it (a few milliseconds). */
export function loadImageDefinition(filesDirectory: string = imageFilesDirectory()): ImageDefinition {
  const files = listFiles(filesDirectory);
  if (!files.includes('packages.txt')) {
    throw new NexoraError('invalid-config', `${filesDirectory} has no packages.txt: the installation is incomplete; reinstall Nexora.`);
  }
  const hash = createHash('sha256');
  hash.update(`nexora-workstation recipe ${imageRecipeVersion}\n`);
  for (const file of files) {
    const path = join(filesDirectory, file);
    // The executable bit matters (the entrypoint must run); other mode bits do not.
    const executable = (statSync(path).mode & 0o111) !== 0;
    const content = readFileSync(path);
    hash.update(`${file}\0${executable ? 'x' : '-'}\0${content.length}\0`);
    hash.update(content);
  }
  const digest = hash.digest('hex');
  const packages = parsePackageList(readFileSync(join(filesDirectory, 'packages.txt'), 'utf8'));
  return { filesDirectory, files, packages, hash: digest, tag: `${imageRepository}:${digest.slice(0, 12)}` };
}

/** The tag of the image the current definition builds: what sessions should run. */
export function workstationImageTag(): string {
  return loadImageDefinition().tag;
}
