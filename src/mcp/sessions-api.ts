import type { Sessions } from '../sdk/nexora.js';

/** What the MCP server needs of the SDK: start, list and find sessions. */
export type SessionsApi = Pick<Sessions, 'start' | 'list' | 'get'>;
