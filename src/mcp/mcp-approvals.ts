import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ApprovalMode } from '../agent/approval-mode.js';
import { ApprovalGuard, type Approver } from '../agent/approval.js';
import type { KeyboardOptions, KeyboardResult, VisualTools } from '../tools/types.js';
import type { Session } from '../sdk/session.js';

/**
 * The approval policy at the MCP door. An MCP client is a model acting for someone, so the
 * same rule as for the agent's own runs applies (`agent.approve` in the user's config, or
 * `nexora mcp --approve`): the same pure policy (agent/approval-policy.ts) and the same
 * ApprovalGuard, over the session as the SDK reaches it. The person is asked through the MCP
 * client (elicitation) when it can ask; otherwise a call that needs a yes is refused.
 */
export function mcpApprovalGuard(options: { mode: ApprovalMode; mcp: McpServer; workspace?: string }): ApprovalGuard {
  return new ApprovalGuard({
    mode: options.mode,
    approver: elicitingApprover(options.mcp),
    noApproverReason: 'this MCP client cannot ask its user (it does not support elicitation); a person can allow it by running `nexora mcp --approve never`, at their own risk',
    ...(options.workspace ? { workspace: options.workspace } : {}),
  });
}

/** Asks the MCP client's user, when the client supports elicitation; refuses otherwise. */
function elicitingApprover(mcp: McpServer): Approver {
  return async (request, { signal }) => {
    if (!mcp.server.getClientCapabilities()?.elicitation) {
      return { approved: false, reason: 'this MCP client cannot ask its user (it does not support elicitation)' };
    }
    const answer = await mcp.server.elicitInput(
      {
        message: `The model wants to ${request.tool === 'execute' ? 'run' : 'do'}: ${request.command}\nWhy it needs your yes: ${request.reasons.join('; ')}`,
        requestedSchema: { type: 'object', properties: { approve: { type: 'boolean', title: 'Allow it', description: 'Allow this one call' } }, required: ['approve'] },
      },
      { signal, timeout: 10 * 60_000 },
    );
    if (answer.action === 'accept' && answer.content?.approve === true) return { approved: true };
    return { approved: false, reason: answer.action === 'accept' ? 'the user said no' : `the user ${answer.action === 'decline' ? 'declined' : 'cancelled'} the question` };
  };
}

/** The session's tools as the agent's guardedKeyboard reads them (keyboard, the cursor line), over the SDK. */
export function sessionTools(session: Session): VisualTools {
  const refuse = (): never => {
    throw new Error('not used at the MCP door');
  };
  return {
    screen: refuse,
    mouse: refuse,
    execute: refuse,
    keyboard: async (options: KeyboardOptions): Promise<KeyboardResult> => {
      const wait = options.wait === false ? undefined : options.wait;
      const result = await session.keyboard({
        ...(options.text !== undefined ? { text: options.text } : {}),
        ...(options.keys !== undefined ? { keys: options.keys } : {}),
        ...(wait?.waitFor === 'input' ? { waitFor: 'input' } : wait?.pattern !== undefined ? { waitFor: String(wait.pattern) } : {}),
        ...(wait?.timeoutMs !== undefined ? { waitMs: wait.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      // The wire's result is the tools' own (the API returns WorkstationTools' answer as JSON).
      return result as unknown as KeyboardResult;
    },
    promptLine: (options) => session.promptLine(options?.signal ? { signal: options.signal } : {}),
    displayWindows: (options) => session.windows(options?.signal ? { signal: options.signal } : {}),
  };
}

/** The current tab's address, from the browser's tab list (undefined when it cannot be read). */
export async function currentPageUrl(session: Session, signal?: AbortSignal): Promise<string | undefined> {
  const tabs = await session.browser('tabs', { action: 'list' }, signal ? { signal } : {}).catch(() => undefined);
  const line = tabs?.text.split('\n').find((entry) => entry.startsWith('* ['));
  return line ? /(\S+)$/.exec(line)?.[1] : undefined;
}

