import { z } from 'zod';

/**
 * A request of either wire format reduced to what the checks need: the tools declared and,
 * per message, its text, tool calls, tool results and images.
 */
export interface NormalizedImage {
  mediaType: string;
  /** True when the bytes start with the PNG signature. */
  validPng: boolean;
  bytes: number;
  /** The PNG's size from its IHDR chunk (0 when it is not a PNG). */
  width: number;
  height: number;
}

export interface NormalizedPart {
  kind: 'text' | 'image' | 'tool-call' | 'tool-result';
  text?: string;
  toolCallId?: string;
  toolName?: string;
  image?: NormalizedImage;
  /** Images inside a tool result (Anthropic). */
  images?: NormalizedImage[];
}

export interface NormalizedMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: NormalizedPart[];
}

export interface NormalizedRequest {
  model: string;
  stream: boolean;
  tools: { name: string; schema: unknown }[];
  messages: NormalizedMessage[];
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function image(mediaType: string, base64: string): NormalizedImage {
  const bytes = Buffer.from(base64, 'base64');
  const validPng = bytes.subarray(0, 8).equals(pngSignature) && bytes.length >= 24;
  return { mediaType, validPng, bytes: bytes.length, width: validPng ? bytes.readUInt32BE(16) : 0, height: validPng ? bytes.readUInt32BE(20) : 0 };
}

function dataUrlImage(url: string): NormalizedImage {
  const match = /^data:([^;]+);base64,(.*)$/s.exec(url);
  if (!match) return { mediaType: 'url', validPng: false, bytes: 0, width: 0, height: 0 };
  return image(match[1] ?? '', match[2] ?? '');
}

// --- OpenAI Chat Completions -------------------------------------------------------------

const openAiContentPart = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  image_url: z.looseObject({ url: z.string() }).optional(),
});

const openAiRequest = z.looseObject({
  model: z.string(),
  stream: z.boolean().optional(),
  messages: z.array(
    z.looseObject({
      role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
      content: z.union([z.string(), z.array(openAiContentPart), z.null()]).optional(),
      tool_calls: z
        .array(z.looseObject({ id: z.string(), function: z.looseObject({ name: z.string(), arguments: z.string() }) }))
        .optional(),
      tool_call_id: z.string().optional(),
    }),
  ),
  tools: z
    .array(z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string(), parameters: z.unknown() }) }))
    .optional(),
});

export function normalizeOpenAi(body: unknown): NormalizedRequest {
  const request = openAiRequest.parse(body);
  const messages = request.messages.map((message): NormalizedMessage => {
    const parts: NormalizedPart[] = [];
    const content = message.content;
    if (message.role === 'tool') {
      parts.push({
        kind: 'tool-result',
        toolCallId: message.tool_call_id,
        text: typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join(''),
        images: [],
      });
    } else if (typeof content === 'string') {
      parts.push({ kind: 'text', text: content });
    } else if (content) {
      for (const part of content) {
        if (part.type === 'text') parts.push({ kind: 'text', text: part.text ?? '' });
        else if (part.type === 'image_url' && part.image_url) parts.push({ kind: 'image', image: dataUrlImage(part.image_url.url) });
      }
    }
    for (const call of message.tool_calls ?? []) {
      parts.push({ kind: 'tool-call', toolCallId: call.id, toolName: call.function.name, text: call.function.arguments });
    }
    const role = message.role === 'developer' ? 'system' : message.role;
    return { role, parts };
  });
  return {
    model: request.model,
    stream: request.stream ?? false,
    tools: (request.tools ?? []).map((tool) => ({ name: tool.function.name, schema: tool.function.parameters })),
    messages,
  };
}

// --- Anthropic Messages -------------------------------------------------------------------

const anthropicImage = z.looseObject({
  type: z.literal('image'),
  source: z.looseObject({ type: z.string(), media_type: z.string().optional(), data: z.string().optional() }),
});

const anthropicBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
  source: z.looseObject({ type: z.string(), media_type: z.string().optional(), data: z.string().optional() }).optional(),
});

const anthropicRequest = z.looseObject({
  model: z.string(),
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.literal('text'), text: z.string() }))]).optional(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(anthropicBlock)]) })),
  tools: z.array(z.looseObject({ name: z.string(), input_schema: z.unknown() })).optional(),
});

function anthropicImageOf(block: unknown): NormalizedImage | undefined {
  const parsed = anthropicImage.safeParse(block);
  if (!parsed.success) return undefined;
  return image(parsed.data.source.media_type ?? '', parsed.data.source.data ?? '');
}

export function normalizeAnthropic(body: unknown): NormalizedRequest {
  const request = anthropicRequest.parse(body);
  const messages: NormalizedMessage[] = [];
  if (request.system !== undefined) {
    const text = typeof request.system === 'string' ? request.system : request.system.map((block) => block.text).join('\n');
    messages.push({ role: 'system', parts: [{ kind: 'text', text }] });
  }
  for (const message of request.messages) {
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    const parts: NormalizedPart[] = [];
    for (const block of blocks) {
      if (block.type === 'text') parts.push({ kind: 'text', text: block.text ?? '' });
      else if (block.type === 'image') {
        const found = anthropicImageOf(block);
        if (found) parts.push({ kind: 'image', image: found });
      } else if (block.type === 'tool_use') {
        parts.push({ kind: 'tool-call', toolCallId: block.id, toolName: block.name, text: JSON.stringify(block.input ?? {}) });
      } else if (block.type === 'tool_result') {
        const inner = typeof block.content === 'string' ? [{ type: 'text', text: block.content }] : (block.content ?? []);
        parts.push({
          kind: 'tool-result',
          toolCallId: block.tool_use_id,
          text: inner.map((item) => item.text ?? '').join(''),
          images: inner.map(anthropicImageOf).filter((found): found is NormalizedImage => found !== undefined),
        });
      }
    }
    const hasResults = parts.some((part) => part.kind === 'tool-result');
    messages.push({ role: hasResults ? 'tool' : message.role, parts });
  }
  return {
    model: request.model,
    stream: request.stream ?? false,
    tools: (request.tools ?? []).map((tool) => ({ name: tool.name, schema: tool.input_schema })),
    messages,
  };
}

/** Every image anywhere in the request. */
export function allImages(request: NormalizedRequest): NormalizedImage[] {
  return request.messages.flatMap((message) =>
    message.parts.flatMap((part) => [...(part.image ? [part.image] : []), ...(part.images ?? [])]),
  );
}

// --- OpenAI Responses ------------------------------------------------------------------------

const responsesContentPart = z.looseObject({ type: z.string(), text: z.string().optional(), image_url: z.string().optional() });

const responsesItem = z.looseObject({
  type: z.string().optional(),
  role: z.enum(['system', 'developer', 'user', 'assistant']).optional(),
  content: z.union([z.string(), z.array(responsesContentPart)]).optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.union([z.string(), z.array(responsesContentPart)]).optional(),
});

const responsesRequest = z.looseObject({
  model: z.string(),
  stream: z.boolean().optional(),
  instructions: z.string().optional(),
  input: z.array(responsesItem),
  tools: z.array(z.looseObject({ type: z.literal('function'), name: z.string(), parameters: z.unknown() })).optional(),
});

function responsesParts(content: string | z.infer<typeof responsesContentPart>[] | undefined): NormalizedPart[] {
  if (content === undefined) return [];
  if (typeof content === 'string') return [{ kind: 'text', text: content }];
  return content.flatMap((part): NormalizedPart[] => {
    if (part.type === 'input_image' && part.image_url) return [{ kind: 'image', image: dataUrlImage(part.image_url) }];
    if (part.text !== undefined) return [{ kind: 'text', text: part.text }];
    return [];
  });
}

export function normalizeResponses(body: unknown): NormalizedRequest {
  const request = responsesRequest.parse(body);
  const messages: NormalizedMessage[] = [];
  if (request.instructions) messages.push({ role: 'system', parts: [{ kind: 'text', text: request.instructions }] });
  for (const item of request.input) {
    if (item.type === 'function_call') {
      messages.push({ role: 'assistant', parts: [{ kind: 'tool-call', toolCallId: item.call_id, toolName: item.name, text: item.arguments }] });
    } else if (item.type === 'function_call_output') {
      const inner = responsesParts(item.output);
      messages.push({
        role: 'tool',
        parts: [
          {
            kind: 'tool-result',
            toolCallId: item.call_id,
            text: inner.map((part) => part.text ?? '').join(''),
            images: inner.flatMap((part) => (part.image ? [part.image] : [])),
          },
        ],
      });
    } else if (item.role) {
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, parts: responsesParts(item.content) });
    }
  }
  return {
    model: request.model,
    stream: request.stream ?? false,
    tools: (request.tools ?? []).map((tool) => ({ name: tool.name, schema: tool.parameters })),
    messages,
  };
}

// --- Google Gemini (generateContent) -------------------------------------------------------

const googlePart = z.looseObject({
  text: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional(),
  functionCall: z.looseObject({ id: z.string().optional(), name: z.string(), args: z.unknown().optional() }).optional(),
  functionResponse: z
    .looseObject({
      id: z.string().optional(),
      name: z.string(),
      response: z.unknown().optional(),
      parts: z.array(z.looseObject({ inlineData: z.looseObject({ mimeType: z.string(), data: z.string() }).optional() })).optional(),
    })
    .optional(),
});

const googleRequest = z.looseObject({
  contents: z.array(z.looseObject({ role: z.string().optional(), parts: z.array(googlePart) })),
  systemInstruction: z.looseObject({ parts: z.array(googlePart) }).optional(),
  tools: z.array(z.looseObject({ functionDeclarations: z.array(z.looseObject({ name: z.string(), parameters: z.unknown().optional() })).optional() })).optional(),
});

/** `model` and `stream` come from the path (…/models/NAME:streamGenerateContent). */
export function normalizeGoogle(body: unknown, model: string, stream: boolean): NormalizedRequest {
  const request = googleRequest.parse(body);
  const messages: NormalizedMessage[] = [];
  if (request.systemInstruction) messages.push({ role: 'system', parts: request.systemInstruction.parts.map((part) => ({ kind: 'text' as const, text: part.text ?? '' })) });
  for (const content of request.contents) {
    const parts: NormalizedPart[] = [];
    const isResult = content.parts.some((part) => part.functionResponse);
    for (const part of content.parts) {
      if (part.functionCall) {
        parts.push({ kind: 'tool-call', toolCallId: part.functionCall.id, toolName: part.functionCall.name, text: JSON.stringify(part.functionCall.args ?? {}) });
      } else if (part.functionResponse) {
        const inner = (part.functionResponse.parts ?? []).flatMap((item) => (item.inlineData ? [image(item.inlineData.mimeType, item.inlineData.data)] : []));
        // The AI SDK sends { name, content }; read the content as text when it is one.
        const response = part.functionResponse.response as { content?: unknown } | undefined;
        const text = typeof response?.content === 'string' ? response.content : JSON.stringify(response ?? {});
        parts.push({ kind: 'tool-result', toolCallId: part.functionResponse.id, toolName: part.functionResponse.name, text, images: inner });
      } else if (part.inlineData) {
        const found = image(part.inlineData.mimeType, part.inlineData.data);
        // Images beside function responses belong to the latest result (Gemini's older layout).
        const lastResult = [...parts].reverse().find((candidate) => candidate.kind === 'tool-result');
        if (isResult && lastResult) lastResult.images = [...(lastResult.images ?? []), found];
        else parts.push({ kind: 'image', image: found });
      } else if (part.text !== undefined) {
        parts.push({ kind: 'text', text: part.text });
      }
    }
    messages.push({ role: isResult ? 'tool' : content.role === 'model' ? 'assistant' : 'user', parts });
  }
  return {
    model,
    stream,
    tools: (request.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []).map((declaration) => ({ name: declaration.name, schema: declaration.parameters })),
    messages,
  };
}
