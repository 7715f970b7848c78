/** The prompt's slash commands and what each does, for /help. */
export const slashCommands = [
  ['/model [provider/model]', 'show or change the model for the next task'],
  ['/sessions, /resume [n|id]', 'list sessions / conversations; n or id picks one'],
  ['/cost', 'tokens and cost of this session'],
  ['/screen', "save the workstation's display as a PNG and print its path"],
  ['/view', 'open the live web view (watch, take control)'],
  ['/clear', 'clear the transcript on screen'],
  ['/quit', 'leave (asks whether to keep the session)'],
  ['/help', 'this list'],
] as const;

export const keyHelp = [
  ['Enter', 'send'],
  ['\\ then Enter, Alt+Enter', 'new line'],
  ['Esc', 'interrupt the current step'],
  ['Ctrl+C', 'interrupt; when idle, quit'],
  ['PgUp / PgDn', 'scroll the transcript'],
  ['Ctrl+O', 'expand / collapse tool call details'],
] as const;

export type SlashCommand = { name: 'model' | 'sessions' | 'resume' | 'cost' | 'screen' | 'view' | 'help' | 'quit' | 'clear'; argument: string } | { name: 'unknown'; argument: string };

/** Parses `/name args`; undefined when the text is a task, not a command. */
export function parseSlashCommand(text: string): SlashCommand | undefined {
  const match = /^\/([a-z]+)\s*([\s\S]*)$/.exec(text.trim());
  if (!match) return undefined;
  const name = match[1] ?? '';
  const argument = (match[2] ?? '').trim();
  const known = ['model', 'sessions', 'resume', 'cost', 'screen', 'view', 'help', 'quit', 'clear'] as const;
  const alias: Record<string, (typeof known)[number]> = { exit: 'quit', q: 'quit', session: 'sessions', continue: 'resume', models: 'model' };
  const resolved = (known as readonly string[]).includes(name) ? (name as (typeof known)[number]) : alias[name];
  return resolved ? { name: resolved, argument } : { name: 'unknown', argument: name };
}
