import type { ModelScript, ScriptTurn } from './script.js';
import { allImages, type NormalizedImage, type NormalizedRequest } from './wire-request.js';

/**
 * What the scripted model checks in every request it receives, so a test fails when the
 * agent sends the wrong thing: tools declared with schemas, results for every tool call,
 * images attached or not according to the model.
 */
export function checkRequest(options: {
  script: ModelScript;
  request: NormalizedRequest;
  turn: ScriptTurn | undefined;
  pendingToolCallIds: string[];
}): string[] {
  const { script, request, turn, pendingToolCallIds } = options;
  const violations: string[] = [];
  if (!request.stream) violations.push('request is not streaming (stream: true expected)');

  for (const name of script.requireTools) {
    const tool = request.tools.find((candidate) => candidate.name === name);
    if (!tool) {
      violations.push(`tool "${name}" is not declared`);
      continue;
    }
    const schema = tool.schema as { type?: unknown } | undefined;
    if (!schema || schema.type !== 'object') violations.push(`tool "${name}" has no object JSON schema`);
  }

  const trailing = trailingMessages(request);
  const results = trailing.flatMap((message) => message.parts.filter((part) => part.kind === 'tool-result'));
  for (const id of pendingToolCallIds) {
    if (!results.some((part) => part.toolCallId === id)) violations.push(`no tool result for tool call ${id}`);
  }

  const images = allImages(request);
  if (script.forbidImages && images.length > 0) violations.push(`a text-only model received ${images.length} image(s)`);
  for (const found of images) {
    if (!found.validPng) violations.push(`an attached image is not a valid PNG (${found.mediaType}, ${found.bytes} bytes)`);
  }

  if (turn && 'respond' in turn && turn.expect) {
    const expect = turn.expect;
    if (expect.model !== undefined && expect.model !== request.model) {
      violations.push(`model "${request.model}" requested, the script expects "${expect.model}"`);
    }
    const resultText = results.map((part) => part.text ?? '').join('\n');
    for (const needle of expect.toolResultIncludes ?? []) {
      if (!resultText.includes(needle)) {
        violations.push(`tool results do not include ${JSON.stringify(needle)}; they were: ${JSON.stringify(resultText.slice(0, 600))}`);
      }
    }
    if (expect.systemIncludes) {
      const firstUser = request.messages.find((message) => message.role === 'user');
      const opening = [...request.messages.filter((message) => message.role === 'system'), ...(firstUser ? [firstUser] : [])]
        .flatMap((message) => message.parts.map((part) => part.text ?? ''))
        .join('\n');
      for (const needle of expect.systemIncludes) {
        if (!opening.includes(needle)) violations.push(`the system prompt and first message do not include ${JSON.stringify(needle)}`);
      }
    }
    if (expect.historyIncludes) {
      const everything = request.messages.flatMap((message) => message.parts.map((part) => part.text ?? '')).join('\n');
      for (const needle of expect.historyIncludes) {
        if (!everything.includes(needle)) violations.push(`no message includes ${JSON.stringify(needle)}`);
      }
    }
    if (expect.minToolResults !== undefined) {
      const count = request.messages.flatMap((message) => message.parts.filter((part) => part.kind === 'tool-result')).length;
      if (count < expect.minToolResults) violations.push(`${count} tool results in the request, at least ${expect.minToolResults} expected`);
    }
    if (expect.imageAttached !== undefined) {
      const attached = trailing.flatMap((message): NormalizedImage[] =>
        message.parts.flatMap((part) => [...(part.image ? [part.image] : []), ...(part.images ?? [])]),
      );
      if (expect.imageAttached && attached.length === 0) violations.push('no image attached to the latest tool results');
      if (!expect.imageAttached && attached.length > 0) violations.push('an image was attached to the latest tool results');
    }
  }
  return violations;
}

/** The messages after the last assistant message: the tool results and what came with them. */
function trailingMessages(request: NormalizedRequest): NormalizedRequest['messages'] {
  let last = -1;
  request.messages.forEach((message, index) => {
    if (message.role === 'assistant') last = index;
  });
  return last < 0 ? [] : request.messages.slice(last + 1);
}
