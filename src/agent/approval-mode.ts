/**
 * When the agent must ask a person before a command runs: `never` (no check), `risky` (only
 * commands that match a destructive pattern), `always` (every `execute` and every command line
 * typed into the terminal).
 */
export const approvalModes = ['never', 'risky', 'always'] as const;
export type ApprovalMode = (typeof approvalModes)[number];
