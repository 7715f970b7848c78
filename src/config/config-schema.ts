import { z } from 'zod';
import { providerKinds } from '../providers/provider-kinds.js';
import { routingStrategies } from '../providers/router.js';
import { approvalModes, type ApprovalMode } from '../agent/approval-mode.js';
import { imageSizeBounds } from '../providers/image-size.js';

/**
 * The shape of nexora.json (in the workspace) and of the user config file. Every object is
 * strict: an unknown or misspelt field is an error that names it.
 */
const positiveInt = z.number().int().positive();
const nonNegative = z.number().finite().nonnegative();

const rateLimitsSchema = z.strictObject({
  requestsPerMinute: z.number().positive().optional(),
  tokensPerMinute: z.number().positive().optional(),
  burstRequests: positiveInt.optional(),
  burstTokens: positiveInt.optional(),
});

const providerSchema = z.strictObject({
  kind: z.enum(providerKinds).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  apiKey: z.string().min(1).optional(),
  api: z.enum(['responses', 'chat']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  rateLimits: rateLimitsSchema.optional(),
});

const { minSide, maxSide, minPixels } = imageSizeBounds;
const imageSide = (name: 'width' | 'height') =>
  z
    .number({ error: `the screenshot's largest ${name}, a whole number of pixels` })
    .int(`the screenshot's largest ${name} must be a whole number of pixels`)
    .min(minSide, `the screenshot's ${name} must be at least ${minSide} pixels`)
    .max(maxSide, `the screenshot's ${name} must be at most ${maxSide} pixels`);

/** The largest screenshot a model gets, e.g. { "width": 1024, "height": 768 } (see providers/image-size.ts). */
const imageSizeSchema = z.strictObject(
  {
    width: imageSide('width'),
    height: imageSide('height'),
    maxPixels: z
      .number({ error: 'maxPixels: the most pixels a screenshot may have, a whole number' })
      .int('maxPixels must be a whole number of pixels')
      .min(minPixels, `maxPixels must be at least ${minPixels}`)
      .optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'imageSize must be an object such as { "width": 1024, "height": 768 }' : undefined) },
);

const modelSchema = z.strictObject({
  capabilities: z
    .strictObject({
      tools: z.boolean().optional(),
      vision: z.boolean().optional(),
      imagesInToolResults: z.boolean().optional(),
      contextTokens: positiveInt.optional(),
    })
    .optional(),
  prices: z.strictObject({ input: nonNegative.optional(), output: nonNegative.optional(), cachedInput: nonNegative.optional() }).optional(),
  imageSize: imageSizeSchema.optional(),
});

const modelRef = z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'provider/model, e.g. anthropic/claude-sonnet-4-5');

export const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  model: modelRef.optional(),
  routing: z
    .strictObject({
      strategy: z.enum(routingStrategies).optional(),
      fallbacks: z.array(modelRef).optional(),
      requireVision: z.boolean().optional(),
    })
    .optional(),
  providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a lowercase provider name'), providerSchema).optional(),
  models: z.record(modelRef, modelSchema).optional(),
  agent: z
    .strictObject({
      maxSteps: positiveInt.max(10_000).optional(),
      maxCostUsd: z.number().positive().optional(),
      /** Screenshots kept in the conversation. */
      keepImages: z.number().int().min(0).max(50).optional(),
      /** Older screenshots are dropped this many at a time, so prompt caches survive. */
      imageDropChunk: positiveInt.max(50).optional(),
      maxToolOutputChars: positiveInt.min(500).optional(),
      maxOutputTokens: positiveInt.optional(),
      /** Send screenshots to models that can see (auto) or never. */
      screenImages: z.enum(['auto', 'never']).optional(),
      /** Which commands need a person's yes before they run (see agent/approval-policy.ts). */
      approve: z.enum(approvalModes).optional(),
      /** How long a session whose run ended stays paused for a resume before it is stopped (default 15). */
      keepIdleMinutes: z.number().positive().max(10_080, 'at most 10080 (7 days)').optional(),
    })
    .optional(),
  viewer: z
    .strictObject({
      /** Store the text a person types during take-over (it may be a password); default: only how many keys. */
      recordTypedText: z.boolean().optional(),
    })
    .optional(),
  retry: z
    .strictObject({
      maxRetries: z.number().int().min(0).max(10).optional(),
      initialDelayMs: positiveInt.optional(),
      maxDelayMs: positiveInt.optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

/** The merged config with every default filled in. */
export interface EffectiveConfig {
  model: string | undefined;
  routing: { strategy: (typeof routingStrategies)[number]; fallbacks: string[]; requireVision: boolean };
  providers: NonNullable<ConfigFile['providers']>;
  models: NonNullable<ConfigFile['models']>;
  agent: {
    maxSteps: number;
    maxCostUsd: number | undefined;
    keepImages: number;
    imageDropChunk: number;
    maxToolOutputChars: number;
    maxOutputTokens: number;
    screenImages: 'auto' | 'never';
    approve: ApprovalMode;
    keepIdleMinutes: number | undefined;
  };
  viewer: { recordTypedText: boolean };
  retry: { maxRetries: number; initialDelayMs: number; maxDelayMs: number };
}

export function withDefaults(config: ConfigFile): EffectiveConfig {
  return {
    model: config.model,
    routing: {
      strategy: config.routing?.strategy ?? (config.model ? 'explicit' : 'cheapest'),
      fallbacks: config.routing?.fallbacks ?? [],
      requireVision: config.routing?.requireVision ?? false,
    },
    providers: config.providers ?? {},
    models: config.models ?? {},
    agent: {
      maxSteps: config.agent?.maxSteps ?? 60,
      maxCostUsd: config.agent?.maxCostUsd,
      keepImages: config.agent?.keepImages ?? 3,
      imageDropChunk: config.agent?.imageDropChunk ?? 3,
      maxToolOutputChars: config.agent?.maxToolOutputChars ?? 8000,
      maxOutputTokens: config.agent?.maxOutputTokens ?? 4096,
      screenImages: config.agent?.screenImages ?? 'auto',
      approve: config.agent?.approve ?? 'risky',
      keepIdleMinutes: config.agent?.keepIdleMinutes,
    },
    viewer: { recordTypedText: config.viewer?.recordTypedText ?? false },
    retry: {
      maxRetries: config.retry?.maxRetries ?? 2,
      initialDelayMs: config.retry?.initialDelayMs ?? 1000,
      maxDelayMs: config.retry?.maxDelayMs ?? 30_000,
    },
  };
}
