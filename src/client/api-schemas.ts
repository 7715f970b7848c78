import { z } from 'zod';

/**
 * The server API's request bodies and query strings. The server validates every input with
 * these; the OpenAPI document is generated from them. Only zod here: clients import this file
 * and must stay light.
 */

const sessionIdText = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected a session id such as ses_…');
const absolutePath = z.string().min(1).refine((value) => value.startsWith('/'), 'must be an absolute path');
const numericUser = z.string().regex(/^\d{1,10}(:\d{1,10})?$/, 'expected uid:gid, e.g. 1000:1000');

export const startSessionBody = z.strictObject({
  workspaceDir: absolutePath.describe('The project directory to mount at /workspace.'),
  user: numericUser.optional().describe('Run the workstation as this uid:gid (default: the workspace owner).'),
  startChromium: z.boolean().optional(),
  usePool: z.boolean().optional().describe('Claim a warm-pool workstation when one is ready (default true).'),
});

export const listSessionsQuery = z.strictObject({
  all: z.enum(['0', '1']).optional().describe('1 includes sessions that are over.'),
});

export const sessionIdParams = z.strictObject({ id: sessionIdText });

export const sessionInfoQuery = z.strictObject({
  showPassword: z.enum(['0', '1']).optional(),
});

export const stopSessionBody = z.strictObject({ reason: z.string().max(200).optional() });

/** The final git check a stop returns (sessions/git-baselines.ts GitChangesReport), as clients read it. */
export const gitReportSchema = z.object({
  changes: z.array(z.object({ path: z.string(), change: z.enum(['added', 'removed', 'modified', 'made-executable']), risk: z.string(), runsOnHost: z.boolean() })),
  neutralised: z.array(z.object({ path: z.string(), movedTo: z.string(), reason: z.string(), at: z.string() })),
  failed: z.array(z.object({ path: z.string(), reason: z.string(), error: z.string() })),
  incomplete: z.boolean(),
  since: z.string(),
  settledAt: z.string().optional(),
});

/** The answer of `POST /v1/sessions/:id/stop` (the session record is passed through as is). */
export type GitReport = z.infer<typeof gitReportSchema>;
export const stopSessionReply = z.object({ session: z.object({ id: z.string(), workspaceDir: z.string().nullable().optional() }).passthrough(), git: gitReportSchema.nullable() });
export type StopSessionReply = z.infer<typeof stopSessionReply>;

export const gcBody = z.strictObject({ restartStopped: z.boolean().optional() });

export const exportBody = z.strictObject({
  format: z.enum(['md', 'json', 'html'], { message: 'use md, json or html' }),
  outDir: absolutePath,
});

export const screenQuery = z.strictObject({
  image: z.enum(['0', '1']).optional().describe('1 (default) encodes a PNG of the display.'),
  ocr: z.enum(['0', '1']).optional(),
  crop: z.enum(['changes']).optional().describe('changes: the PNG shows only what changed since the last look.'),
});

export const eventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const controlBody = z.strictObject({ action: z.enum(['take', 'hand-back']) });

export const runBody = z.strictObject({
  task: z.string().trim().min(1, 'the task is empty: say what to do'),
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  strategy: z.string().min(1).optional(),
  workspace: absolutePath,
  session: sessionIdText.optional(),
  maxSteps: z.number().int().min(1).max(10_000).optional(),
  maxCost: z.number().positive().finite().optional(),
  json: z.boolean().optional(),
  keep: z.boolean().optional().describe('Leave the workstation running when the run ends (default: paused and kept for --continue for the idle time, then removed).'),
  rm: z.boolean().optional().describe('Stop and remove the workstation as soon as the run ends.'),
  approve: z.enum(['never', 'risky', 'always']).optional().describe('Which commands need a yes first (default: agent.approve in the config, else risky).'),
  continue: z.boolean().optional().describe('Carry on the last conversation in this workspace.'),
  resume: sessionIdText.optional().describe('Carry on the conversation of this session.'),
  snapshot: z.boolean().optional().describe("Keep a copy of the workspace as it is at the session's start, for replay."),
  interactive: z.boolean().optional().describe('The client answers approval questions (approval events, answered at /v1/runs/{id}/approvals/{approval}); otherwise commands that need a yes are refused.'),
  events: z.boolean().optional().describe("Also stream the agent's typed events (event: agent)."),
  /** The client's environment: provider keys named by `apiKeyEnv` are read from it, not the server's. */
  env: z.record(z.string(), z.string()).optional(),
});

const runIdText = z.string().regex(/^run_[A-Za-z0-9]{6,40}$/, 'expected a run id such as run_…');

export const runIdParams = z.strictObject({ id: runIdText });

export const approvalParams = z.strictObject({ id: runIdText, approval: z.string().regex(/^apr_\d{1,9}$/, 'expected an approval id such as apr_1') });

export const approvalAnswerBody = z.strictObject({
  approved: z.boolean(),
  reason: z.string().max(500).optional().describe('Why not, for the model (when approved is false).'),
});

export const poolWarmBody = z.strictObject({
  workspaceDir: absolutePath,
  size: z.number().int().min(1).max(100).optional().describe('Default: NEXORA_POOL_SIZE of the server, else 1.'),
  idleTimeoutMs: z.number().int().min(10_000).optional(),
  user: numericUser.optional(),
  startChromium: z.boolean().optional(),
});

export const poolDrainBody = z.strictObject({ workspaceDir: absolutePath.optional() });

export const providerParams = z.strictObject({ provider: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a provider name such as openai') });

export const setKeyBody = z.strictObject({
  apiKey: z.string().min(1, 'the key is empty').max(4096),
  expiresAt: z.iso.datetime().nullable().optional(),
});

export const viewQuery = z.strictObject({ session: sessionIdText.optional() });

export const stopServerBody = z.strictObject({
  stopSessions: z.boolean().optional().describe('Also end every active session (default: they keep running).'),
});

/** The error body of every failed request. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** For validation errors: the field at fault, dotted. */
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBody>;

export const healthBody = z.object({
  ok: z.boolean(),
  version: z.string(),
  build: z.string(),
  pid: z.number(),
  home: z.string(),
  store: z.object({ kind: z.string(), location: z.string(), fingerprint: z.string().optional() }),
  /** The engine and backend settings the server was started with (engineSettings). */
  engine: z.record(z.string(), z.string().nullable()).optional(),
  startedAt: z.string(),
  admission: z.object({ limit: z.number(), running: z.number(), waiting: z.number() }),
  tcp: z.object({ port: z.number() }).nullable(),
  // Absent from servers older than the client.
  memory: z
    .object({
      rssBytes: z.number(),
      readyRssBytes: z.number(),
      heapUsedBytes: z.number(),
      externalBytes: z.number(),
      activeSessions: z.number(),
      perSessionBytes: z.number(),
      channels: z.object({ sessions: z.number(), framebufferBytes: z.number() }),
    })
    .optional(),
});
export type HealthBody = z.infer<typeof healthBody>;

/**
 * Commands that run in the server because they need its store and workstations, with their
 * output streamed back: `nexora demo`, `session replay`, `init`.
 */
export const jobKinds = ['demo', 'replay', 'replay-export', 'init'] as const;
export type JobKind = (typeof jobKinds)[number];

export const jobBodies = {
  demo: z.strictObject({
    workspace: absolutePath.optional(),
    out: absolutePath.optional(),
    keep: z.boolean().optional(),
    quick: z.boolean().optional(),
    script: absolutePath.optional(),
  }),
  replay: z.strictObject({ sessionId: sessionIdText, keep: z.boolean().optional() }),
  'replay-export': z.strictObject({ sessionId: sessionIdText, file: absolutePath }),
  init: z.strictObject({
    workspace: absolutePath,
    force: z.boolean().optional(),
    template: z.boolean().optional(),
    model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
  }),
} satisfies Record<JobKind, z.ZodType>;

export const jobBody = z.strictObject({
  kind: z.enum(jobKinds),
  options: z.record(z.string(), z.unknown()).describe("The command's options (validated per kind)."),
  /** The client's environment: the configuration and provider keys it names are read from it. */
  env: z.record(z.string(), z.string()).optional(),
});

export const conversationsQuery = z.strictObject({ workspace: absolutePath.describe('The workspace whose conversations to list.') });

export const continueConversationBody = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*\/.+$/, 'write provider/model, e.g. anthropic/claude-sonnet-4-5').optional(),
});

export const modelsBody = z.strictObject({
  workspace: absolutePath.optional().describe("Whose nexora.json to read with the user's config."),
  model: z.string().max(200).optional().describe('Also resolve this provider/model (an unknown one is an error).'),
  env: z.record(z.string(), z.string()).optional(),
});

export const terminalQuery = z.strictObject({ windowOnly: z.enum(['0', '1']).optional().describe("1: the active window's panes only, without tmux's status line.") });
