import { describe, expect, it } from 'vitest';
import { describeProgram, parseProcessTable, programStateFrom } from './program-state.js';

// `ps -e -o pid=,pgid=,tpgid=,stat=,etimes=,wchan:40=,args=` as procps prints it.
const table = (rows: string[]): string => rows.join('\n');

describe('programStateFrom', () => {
  it('reads a shell at its prompt as waiting for input', () => {
    const rows = parseProcessTable(table(['   10    10    10 Ss+     120 do_select  -bash', '   11    11    10 S        50 hrtimer_nanosleep  sleep 9 &']));
    const state = programStateFrom(rows, 10);
    expect(state).toMatchObject({ activity: 'input', atShellPrompt: true, name: 'bash' });
    expect(describeProgram(state, 0)).toBe('the shell waits for input at its prompt');
  });

  it('reads a foreground sleep as running, with how long and the last output', () => {
    const rows = parseProcessTable(table(['   10    10    42 Ss      120 do_wait  bash', '   42    42    42 S+       12 hrtimer_nanosleep  sleep 30']));
    const state = programStateFrom(rows, 10);
    expect(state).toMatchObject({ activity: 'running', name: 'sleep', runningMs: 12_000, command: 'sleep 30' });
    expect(describeProgram(state, 3400)).toBe('still running: sleep (12 s, last output 3 s ago)');
  });

  it('reads a program blocked on a terminal read as waiting for input, with certainty', () => {
    const rows = parseProcessTable(table(['   10    10    50 Ss      120 do_wait  bash', '   50    50    50 S+        2 wait_woken  python3 -c input()']));
    expect(programStateFrom(rows, 10)).toMatchObject({ activity: 'input', certain: true, name: 'python3' });
  });

  it('counts any busy process of the foreground group as running', () => {
    const rows = parseProcessTable(
      table(['   10    10    60 Ss      120 do_wait  bash', '   60    60    60 S+        5 do_wait  make', '   61    60    60 R+        1 -  cc1 -O2 main.c']),
    );
    expect(programStateFrom(rows, 10)).toMatchObject({ activity: 'running', name: 'make' });
  });

  it('marks a poll wait outside the shell as uncertain (an editor, or a server on its sockets)', () => {
    const rows = parseProcessTable(table(['   10    10    70 Ss      120 do_wait  bash', '   70    70    70 S+        9 poll_schedule_timeout.constprop.0  vim notes.txt']));
    expect(programStateFrom(rows, 10)).toMatchObject({ activity: 'input', certain: false, name: 'vim' });
  });

  it('says gone when the shell is not in the table, and skips lines that do not parse', () => {
    const rows = parseProcessTable('garbage\n   99    99    99 S  1 do_select  other');
    expect(rows).toHaveLength(1);
    expect(programStateFrom(rows, 10).activity).toBe('gone');
  });
});
