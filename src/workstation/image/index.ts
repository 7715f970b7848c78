export { buildImage, type BuildImageOptions, type BuildImageResult } from './build-image.js';
export { silentProgress, type BuildProgress } from './build-progress.js';
export { imageEnvironment, imageLabel, imageRepository } from './image-config.js';
export { imageFilesDirectory, imageRecipeVersion, loadImageDefinition, workstationImageTag, type ImageDefinition } from './image-definition.js';
export { findImage, listImages, removeImage, type WorkstationImage } from './image-store.js';
export { parsePackageList, type PackageEntry } from './package-list.js';
