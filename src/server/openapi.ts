import { z } from 'zod';
import { errorBody } from '../client/api-schemas.js';
import { NEXORA_VERSION } from '../client/version.js';
import type { ApiRoute } from './api-route.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema);
  const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

/** The OpenAPI 3.1 document of the API, generated from the routes' zod schemas. */
export function openApiDocument(routes: readonly ApiRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const okContent: Record<string, JsonSchema> = { [route.produces ?? 'application/json']: { schema: {} } };
    if (route.streams) okContent['text/event-stream'] = { schema: { type: 'string', description: 'Server-sent events: progress, then a result or an error event.' } };
    const operation: JsonSchema = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[:/](\w)/g, (_, letter: string) => letter.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
      summary: route.summary,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses: {
        '200': { description: 'OK', content: okContent },
        default: { description: 'An error: its NexoraError code and a message saying what to do', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
    if (route.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Nexora server API', version: NEXORA_VERSION, description: 'On the Unix socket server.sock in the Nexora home (owner only), and on 127.0.0.1 with a bearer token when the server is started with --port.' },
    servers: [{ url: 'http://127.0.0.1' }],
    components: {
      schemas: { Error: jsonSchema(errorBody, 'output') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Only for the TCP listener; the Unix socket needs none.' } },
    },
    paths,
  };
}
