/**
 * What the terminal's foreground program is doing, read from the workstation's process table:
 * waiting for input (blocked reading the terminal, or the shell at its prompt), still running,
 * or gone. It is how keyboard() knows a command has come back instead of guessing from a
 * quiet screen.
 */

export type ProgramActivity = 'input' | 'running' | 'gone';

export interface ProgramState {
  activity: ProgramActivity;
  /** The foreground command line (untrusted text, cut to 200 characters); empty when gone. */
  command: string;
  /** The foreground program's name (the first word of its command). */
  name: string;
  /** How long the foreground program has been running, in ms. */
  runningMs: number;
  /** Whether the shell itself is in the foreground (at its prompt, or in a builtin such as read). */
  atShellPrompt: boolean;
  /**
   * True when the program is blocked reading the terminal itself; false when it waits in
   * poll/select/epoll (an editor or REPL, but also a server waiting on its sockets).
   */
  certain: boolean;
}

/** The one command that reads the process table (procps ps; one exec through the command server). */
export const PROCESS_TABLE_COMMAND = 'ps -e -o pid=,pgid=,tpgid=,stat=,etimes=,wchan:40=,args=';

/** Kernel wait channels of a read on a terminal. */
const terminalReads = new Set(['wait_woken', 'n_tty_read', 'tty_read', 'read_chan']);
/** Kernel wait channels of a program waiting on several descriptors (the terminal among them, usually). */
const descriptorWaits = new Set(['do_select', 'core_sys_select', 'poll_schedule_timeout', 'do_sys_poll', 'do_poll', 'ep_poll', 'do_epoll_wait']);

interface ProcessRow {
  pid: number;
  pgid: number;
  tpgid: number;
  stat: string;
  elapsedSeconds: number;
  wchan: string;
  args: string;
}

/** Parses `ps` output (PROCESS_TABLE_COMMAND); rows that do not parse are skipped. */
export function parseProcessTable(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)\s+(\d+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!match) continue;
    rows.push({
      pid: Number(match[1]),
      pgid: Number(match[2]),
      tpgid: Number(match[3]),
      stat: match[4]!,
      elapsedSeconds: Number(match[5]),
      // The compiler's clones carry a suffix (`poll_schedule_timeout.constprop.0`).
      wchan: match[6]!.replace(/\..*$/, ''),
      args: (match[7] ?? '').slice(0, 200),
    });
  }
  return rows;
}

/** The state of the foreground program of the terminal whose shell is `shellPid`. */
export function programStateFrom(rows: readonly ProcessRow[], shellPid: number): ProgramState {
  const shell = rows.find((row) => row.pid === shellPid);
  if (!shell) return { activity: 'gone', command: '', name: '', runningMs: 0, atShellPrompt: false, certain: true };
  const foregroundGroup = shell.tpgid > 0 ? shell.tpgid : shell.pgid;
  const group = rows.filter((row) => row.pgid === foregroundGroup && !row.stat.startsWith('Z'));
  const leader = group.find((row) => row.pid === foregroundGroup) ?? group[0] ?? shell;
  const atShellPrompt = foregroundGroup === shell.pgid;
  const name = (leader.args.split(/\s+/)[0] ?? '').replace(/^.*\//, '').replace(/^-/, '');
  const base = { command: leader.args, name, runningMs: leader.elapsedSeconds * 1000, atShellPrompt };
  // Any process of the group on a CPU or in an uninterruptible wait is working.
  if (group.some((row) => /^[RD]/.test(row.stat))) return { ...base, activity: 'running', certain: true };
  const waits = group.map((row) => row.wchan);
  if (waits.some((wchan) => terminalReads.has(wchan))) return { ...base, activity: 'input', certain: true };
  // The shell at its prompt waits in select/poll (readline): that is waiting for input.
  if (waits.some((wchan) => descriptorWaits.has(wchan))) return { ...base, activity: 'input', certain: atShellPrompt };
  return { ...base, activity: 'running', certain: true };
}

/** One line for the model, e.g. "still running: make (12 s, last output 3 s ago)". */
export function describeProgram(state: ProgramState, lastOutputAgoMs: number | undefined): string {
  if (state.activity === 'gone') return "the terminal's shell has exited";
  if (state.activity === 'input') return state.atShellPrompt ? 'the shell waits for input at its prompt' : `waiting for input: ${state.name}`;
  const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
  const output = lastOutputAgoMs === undefined ? '' : `, last output ${seconds(Math.max(lastOutputAgoMs, 0))} ago`;
  return `still running: ${state.name} (${seconds(state.runningMs)}${output})`;
}
