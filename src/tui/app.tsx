// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useCallback, useEffect, useReducer, useRef, useState, type ReactElement } from 'react';
import { describeError } from '../errors.js';
import { formatTokens, formatUsd } from './format.js';
import type { ApprovalDecision, ApprovalRequest } from '../agent/approval.js';
import { ApprovalDialog, approvalDialogRows } from './approval-dialog.js';
import { PromptInput } from './prompt-input.js';
import { ScreenPane } from './screen-pane.js';
import { keyHelp, parseSlashCommand, slashCommands } from './slash-commands.js';
import { StatusLine } from './status-line.js';
import { createTheme, ThemeContext } from './theme.js';
import type { TuiConversationSummary, TuiHost, TuiSessionSummary } from './tui-host.js';
import { initialTuiState, reduceTui, sessionTotals } from './tui-state.js';
import { TranscriptView } from './transcript-view.js';

export interface AppProps {
  host: TuiHost;
  sessionId?: string;
  model?: string;
  color: boolean;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  columns?: number;
  rows?: number;
}

/** The whole TUI: transcript, terminal pane, status line and prompt, and the keys around them. */
export function App(props: AppProps): ReactElement {
  const { host } = props;
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [size, setSize] = useState({ columns: props.columns ?? stdout.columns ?? 80, rows: props.rows ?? stdout.rows ?? 24 });
  const [state, dispatch] = useReducer(reduceTui, initialTuiState({ ...(props.sessionId ? { sessionId: props.sessionId } : {}), ...(props.model ? { model: props.model } : {}) }));
  const [quitting, setQuitting] = useState(false);
  // A command waiting for the person's yes (approval policy), with how to answer it.
  const [approval, setApproval] = useState<{ request: ApprovalRequest; answer: (decision: ApprovalDecision) => void } | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const controller = useRef<AbortController | undefined>(undefined);
  const sessions = useRef<TuiSessionSummary[]>([]);
  const conversations = useRef<TuiConversationSummary[]>([]);
  const theme = createTheme(props.color);

  useEffect(() => {
    if (props.columns !== undefined) return;
    const onResize = (): void => setSize({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout, props.columns]);

  useEffect(() => {
    if (!state.running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [state.running]);

  const refreshScreen = useCallback(() => {
    host.screenText().then(
      (text) => text !== undefined && dispatch({ type: 'screen', text }),
      () => undefined,
    );
  }, [host]);
  useEffect(refreshScreen, [refreshScreen]);

  const notice = (text: string, tone: 'info' | 'error' | 'success' = 'info'): void => dispatch({ type: 'notice', text, tone });
  const attempt = (work: Promise<void>): void => {
    work.catch((error: unknown) => notice(describeError(error), 'error'));
  };

  const startTask = (task: string): void => {
    const abort = new AbortController();
    controller.current = abort;
    attempt(
      host
        .run(task, {
          signal: abort.signal,
          approver: (request, { signal }) =>
            new Promise<ApprovalDecision>((resolve) => {
              const answer = (decision: ApprovalDecision): void => {
                setApproval(undefined);
                resolve(decision);
              };
              signal.addEventListener('abort', () => answer({ approved: false, reason: 'the run was interrupted' }), { once: true });
              setApproval({ request, answer });
            }),
          onEvent: (event) => {
            dispatch({ type: 'agent', event });
            if (event.type === 'tool-call-end' || event.type === 'run-end') refreshScreen();
          },
        })
        .finally(() => {
          if (controller.current === abort) controller.current = undefined;
        }),
    );
  };

  const leave = (keepSession: boolean): void => {
    setQuitting(false);
    notice(keepSession ? 'Leaving; the session stays for a resume…' : 'Stopping the session…');
    controller.current?.abort();
    host.quit({ keepSession }).then(
      () => exit(),
      (error: unknown) => {
        notice(describeError(error), 'error');
        exit();
      },
    );
  };

  const runSlash = (text: string): boolean => {
    const command = parseSlashCommand(text);
    if (!command) return false;
    switch (command.name) {
      case 'help':
        notice([...slashCommands.map(([name, what]) => `${name.padEnd(26)} ${what}`), '', ...keyHelp.map(([key, what]) => `${key.padEnd(26)} ${what}`)].join('\n'));
        break;
      case 'cost': {
        const totals = sessionTotals(state);
        notice(`session ${state.sessionId ?? '(none yet)'}: ${formatTokens(totals.inputTokens)} tokens in (${formatTokens(state.cachedInputTokens)} cached this run), ${formatTokens(totals.outputTokens)} out, ${formatUsd(totals.usd)}; this run ${formatUsd(state.costUsd)} over ${state.step} steps`);
        break;
      }
      case 'model':
        if (command.argument === '') {
          attempt(host.listModels().then((models) => notice(`model: ${state.model ?? '(default)'}\navailable: ${models.join(', ') || '(none: add a key with `nexora keys set`)'}`)));
        } else {
          attempt(
            host.setModel(command.argument).then((model) => {
              dispatch({ type: 'model', model });
              notice(`model for the next task: ${model}`, 'success');
            }),
          );
        }
        break;
      case 'sessions':
        if (command.argument === '') {
          attempt(
            host.listSessions().then((list) => {
              sessions.current = list;
              notice(
                list.length === 0
                  ? 'No sessions.'
                  : list.map((session, index) => `${String(index + 1).padStart(2)}. ${session.id} ${session.status.padEnd(8)} ${session.model} ${session.workspaceDir ?? ''}${session.id === state.sessionId ? '  (this one)' : ''}`).join('\n') + '\n/sessions N resumes one.',
              );
            }),
          );
        } else {
          if (state.running) {
            notice('A task is running: wait for it or press Esc, then switch sessions.', 'error');
            break;
          }
          const byNumber = /^\d+$/.test(command.argument) ? sessions.current[Number(command.argument) - 1]?.id : undefined;
          attempt(
            host.resumeSession(byNumber ?? command.argument).then((resumed) => {
              dispatch({ type: 'session', sessionId: resumed.sessionId, ...(resumed.model ? { model: resumed.model } : {}) });
              notice(`resumed session ${resumed.sessionId}`, 'success');
              refreshScreen();
            }),
          );
        }
        break;
      case 'resume': {
        if (!host.listConversations || !host.resumeConversation) {
          notice('This host keeps no conversations to resume.', 'error');
          break;
        }
        if (command.argument === '') {
          attempt(
            host.listConversations().then((list) => {
              conversations.current = list;
              notice(
                list.length === 0
                  ? 'No conversations in this project yet.'
                  : list.map((item, index) => `${String(index + 1).padStart(2)}. ${item.sessionId} ${item.status.padEnd(8)} ${item.createdAt.toISOString().slice(0, 16).replace('T', ' ')} ${item.task.replace(/\s+/g, ' ').slice(0, 60)}`).join('\n') + '\n/resume N carries one on.',
              );
            }),
          );
          break;
        }
        if (state.running) {
          notice('A task is running: wait for it or press Esc, then resume a conversation.', 'error');
          break;
        }
        const byNumber = /^\d+$/.test(command.argument) ? conversations.current[Number(command.argument) - 1]?.sessionId : undefined;
        attempt(
          host.resumeConversation(byNumber ?? command.argument).then((resumed) => {
            dispatch({ type: 'session', sessionId: resumed.sessionId, ...(resumed.model ? { model: resumed.model } : {}), earlier: resumed.totals });
            notice(`conversation carried on in session ${resumed.sessionId}: ${resumed.turns} turns restored, ${resumed.sameWorkstation ? 'on its workstation' : "on a new workstation (the terminal's state was lost)"}; your next task continues it`, 'success');
            refreshScreen();
          }),
        );
        break;
      }
      case 'screen':
        attempt(host.saveScreenshot().then((path) => notice(`screenshot saved: ${path}`, 'success')));
        break;
      case 'view':
        attempt(host.openView().then((url) => notice(`web view: ${url}`, 'success')));
        break;
      case 'clear':
        dispatch({ type: 'clear' });
        break;
      case 'quit':
        setQuitting(true);
        break;
      case 'unknown':
        notice(`Unknown command /${command.argument}: /help lists the commands.`, 'error');
        break;
    }
    return true;
  };

  const onSubmit = (text: string): void => {
    if (runSlash(text)) return;
    if (state.running) {
      notice('A task is running: wait for it, or press Esc to interrupt it first.', 'error');
      return;
    }
    dispatch({ type: 'submit', text });
    startTask(text);
  };

  useInput((input, key) => {
    if (approval) {
      if (input === 'y') approval.answer({ approved: true });
      else if (input === 'n' || key.escape) approval.answer({ approved: false, reason: 'the person answered no' });
      else if (key.ctrl && input === 'c') {
        approval.answer({ approved: false, reason: 'the person interrupted the run' });
        controller.current?.abort();
      }
      return;
    }
    if (quitting) {
      if (input === 'k' || (key.ctrl && input === 'c')) leave(true);
      else if (input === 's') leave(false);
      else if (input === 'c' || key.escape) setQuitting(false);
      return;
    }
    if (key.escape && state.running) {
      controller.current?.abort();
      notice('Interrupting: the current step ends cleanly…');
    } else if (key.ctrl && input === 'c') {
      if (state.running) {
        controller.current?.abort();
        notice('Interrupting: the current step ends cleanly… (Ctrl+C again when idle to quit)');
      } else setQuitting(true);
    } else if (key.ctrl && input === 'd' && !state.running) setQuitting(true);
    else if (key.pageUp) dispatch({ type: 'scroll', by: 3 });
    else if (key.pageDown) dispatch({ type: 'scroll', by: -3 });
    else if (key.ctrl && input === 'o') dispatch({ type: 'toggle-expanded' });
  });

  const { columns, rows } = size;
  const width = Math.max(20, columns);
  const paneRows = rows >= 36 ? 8 : rows >= 20 && columns >= 50 ? 4 : 0;
  const promptRows = 2;
  const dialogRows = quitting ? 1 : approval ? approvalDialogRows(approval.request, width) : 0;
  const transcriptHeight = Math.max(3, rows - 1 - promptRows - (paneRows > 0 ? paneRows + 2 : 0) - dialogRows - 1);
  return (
    <ThemeContext.Provider value={theme}>
      <Box flexDirection="column" width={width}>
        <TranscriptView entries={state.entries} height={transcriptHeight} width={width} expanded={state.expanded} scrollBack={state.scrollBack} />
        {paneRows > 0 ? <ScreenPane text={state.screenText} rows={paneRows} width={width} /> : null}
        {approval ? <ApprovalDialog request={approval.request} /> : null}
        {quitting ? (
          <Text color={theme.user} bold>
            Quit: [k]eep the session for a resume, [s]top it, [c]ancel
          </Text>
        ) : null}
        <PromptInput onSubmit={onSubmit} active={!quitting && !approval} width={width} hint={state.entries.length === 0 ? 'Describe a task, or /help' : undefined} />
        <StatusLine state={state} width={width} now={now} />
      </Box>
    </ThemeContext.Provider>
  );
}
