import type { ProviderKind } from './provider-kinds.js';

/**
 * The largest screenshot a model should get: the display is scaled down (never up) to fit in
 * `width` × `height` and, when given, to at most `maxPixels` pixels, keeping its aspect ratio.
 * Sending the size the provider would scale to anyway means the model's pixels are ours, so
 * the coordinates it points at need no guessing (the tools scale them back to the display).
 */
export interface ImageSizeLimit {
  width: number;
  height: number;
  maxPixels?: number;
}

/** The bounds a configured limit must respect (a 16-pixel image is useless, an 8K one a mistake). */
export const imageSizeBounds = { minSide: 16, maxSide: 8192, minPixels: 256 } as const;

/**
 * Anthropic: images over 1568 px on the long edge or about 1.15 megapixels (~1,600 tokens)
 * are scaled down by the API; the workstation's 1280×800 fits as it is.
 */
const anthropicLimit: ImageSizeLimit = { width: 1568, height: 1568, maxPixels: 1_150_000 };

/**
 * OpenAI (high detail, the tile-priced models): the image is fitted into 2048×2048, then its
 * short side scaled to 768 px. Workstation displays are landscape, so the short side is the
 * height: a box of 2048×768 gives the same size (1280×800 → 1229×768).
 */
const openAiTileLimit: ImageSizeLimit = { width: 2048, height: 768 };

/**
 * OpenAI's patch-priced models (gpt-5-mini, gpt-4.1-mini): 32×32-pixel patches, at most
 * 1536 of them, else the image is scaled down (1280×800 is 1000 patches and fits).
 */
export const openAiPatchLimit: ImageSizeLimit = { width: 2048, height: 2048, maxPixels: 1536 * 32 * 32 };

/**
 * Defaults per provider kind. Gemini tiles large images into 768×768 crops instead of
 * shrinking them, xAI, Mistral and Groq document no resolution that their APIs scale to, and
 * an OpenAI-compatible endpoint can be any model: those get the display's own size.
 */
const byKind: Partial<Record<ProviderKind, ImageSizeLimit>> = {
  anthropic: anthropicLimit,
  openai: openAiTileLimit,
};

/** The default screenshot limit of a provider kind (undefined: the display's own size). */
export function defaultImageSize(kind: ProviderKind | undefined): ImageSizeLimit | undefined {
  return kind ? byKind[kind] : undefined;
}
