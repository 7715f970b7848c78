import { lstatSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { callModelOnce } from '../agent/model-step.js';
import { initPrompt, starterInstructions, surveyProject } from '../agent/project-survey.js';
import { loadConfig } from '../config/load-config.js';
import { describeError, NexoraError } from '../errors.js';
import { nexoraPaths } from '../paths.js';
import { ProviderRegistry } from '../providers/registry.js';
import { MasterKeyStore, ProviderKeyStore } from '../secrets/index.js';
import { refusalReason, writeFileUnder } from '../safe-file/index.js';
import type { Db } from '../store/index.js';
import { openJobDatabase } from './job-store.js';

/** What `nexora init` asks for (validated by its caller: the command's flags, the API's job body). */
export interface InitOptions {
  workspace: string;
  /** Replace an existing AGENTS.md. */
  force?: boolean;
  /** Write the plain template without asking a model. */
  template?: boolean;
  /** The model that writes it (default: "model" in nexora.json). */
  model?: string;
}

/** Writes `<workspace>/AGENTS.md`, by the model when one is usable, else from the plain template. */
export async function initProject(options: InitOptions, dependencies: { db?: Db; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {}): Promise<{ file: string; how: string }> {
  const workspace = resolve(options.workspace);
  if (!statSync(workspace, { throwIfNoEntry: false })?.isDirectory()) throw new NexoraError('invalid-argument', `Invalid --workspace: ${workspace} is not a directory.`);
  const file = join(workspace, 'AGENTS.md');
  const alreadyExists = (): NexoraError => new NexoraError('already-exists', `${file} already exists: edit it, or run \`nexora init --force\` to replace it.`);
  // Only spares asking the model for nothing: the exclusive write below is what refuses.
  if (lstatSync(file, { throwIfNoEntry: false }) && !options.force) throw alreadyExists();
  const survey = await surveyProject(workspace);
  let text: string | undefined;
  let how = 'plain template: no model is configured';
  if (options.template) how = 'plain template';
  else {
    const { config } = await loadConfig({ workspace, ...(dependencies.env ? { env: dependencies.env } : {}) });
    const db = dependencies.db ?? (await openJobDatabase());
    try {
      const keys = new ProviderKeyStore({ db, masterKeys: new MasterKeyStore(nexoraPaths()) });
      const registry = new ProviderRegistry({ providers: config.providers, models: config.models, keys, ...(dependencies.env ? { env: dependencies.env } : {}) });
      const model = options.model ?? config.model;
      const candidates = await registry
        .candidates({ strategy: options.model ? 'explicit' : config.routing.strategy, ...(model !== undefined ? { model } : {}), fallbacks: [], needs: { tools: false, vision: false } })
        .catch((error: unknown) => {
          // Naming a model that cannot be used is a mistake to report; having none is the template's case.
          if (options.model) throw error;
          return [];
        });
      const first = candidates[0];
      if (first) {
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new NexoraError('timeout', 'The model did not answer within 120 s.')), 120_000);
        dependencies.signal?.addEventListener('abort', () => controller.abort(), { once: true });
        try {
          const reply = await callModelOnce({
            candidate: first,
            system: { role: 'system', content: 'You are Nexora, a software engineer. You write clear, short project documentation for other engineers and AI agents.' },
            messages: [{ role: 'user', content: initPrompt(survey) }],
            tools: {},
            maxOutputTokens: 4000,
            signal: controller.signal,
            onTextDelta: () => undefined,
          });
          text = stripFence(reply.text);
          how = `written by ${first.info.ref} from a look at the project`;
          if (!text) how = `plain template: ${first.info.ref} returned nothing`;
        } catch (error) {
          how = `plain template: ${first.info.ref} failed (${describeError(error).slice(0, 160)})`;
        } finally {
          clearTimeout(timer);
        }
      }
    } finally {
      if (!dependencies.db) await db.close();
    }
  }
  // A workspace is untrusted: AGENTS.md may be a link a workstation planted (to ~/.bashrc…).
  // safe-file writes a new file and renames it over the name, so a link is replaced, never followed.
  const written = await writeFileUnder({
    root: workspace,
    path: 'AGENTS.md',
    data: `${(text ?? starterInstructions(survey)).trimEnd()}\n`,
    mode: 0o644,
    exclusive: !options.force,
    ...(dependencies.signal ? { signal: dependencies.signal } : {}),
  }).catch((error: unknown) => {
    throw refusalReason(error) === 'already-exists' ? alreadyExists() : error;
  });
  if (written.replaced === 'symbolic-link') how += '; AGENTS.md was a symbolic link: it was replaced by this file, and what it pointed at was not touched';
  return { file, how };
}

/** Models like to wrap a file in a code fence even when asked not to. */
function stripFence(text: string): string {
  const trimmed = text.trim();
  const match = /^```[a-z]*\n([\s\S]*?)\n```$/.exec(trimmed);
  return (match?.[1] ?? trimmed).trim();
}
