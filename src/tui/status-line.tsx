// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { clip, formatMs, formatTokens, formatUsd } from './format.js';
import { useTheme } from './theme.js';
import { sessionTotals, type TuiState } from './tui-state.js';

/** Session, model, step, elapsed time, tokens and cost on one line; fewer fields when narrow. */
export function StatusLine(props: { state: TuiState; width: number; now: number }): ReactElement {
  const theme = useTheme();
  const { state, width } = props;
  const totals = sessionTotals(state);
  const elapsed = state.runStartedAt !== undefined ? formatMs(Math.max(0, (state.runEndedAt ?? props.now) - state.runStartedAt)) : '–';
  const session = state.sessionId ?? 'no session';
  const fields =
    width >= 100
      ? [session, state.model ?? 'no model', `step ${state.step}`, elapsed, `${formatTokens(totals.inputTokens)} in / ${formatTokens(totals.outputTokens)} out`, formatUsd(totals.usd)]
      : width >= 70
        ? [clip(session, 12), clip(state.model ?? 'no model', 18), `step ${state.step}`, elapsed, `${formatTokens(totals.inputTokens + totals.outputTokens)} tok`, formatUsd(totals.usd)]
        : [`s${state.step}`, elapsed, formatUsd(totals.usd)];
  const base = fields.join(' │ ');
  const long = `${base} │ ${state.running ? 'running · Esc interrupts' : 'ready · /help'}`;
  const text = clip(long.length <= width ? long : `${base} │ ${state.running ? 'running' : 'ready'}`, width);
  return (
    <Box width={width}>
      <Text inverse={!theme.color} backgroundColor={theme.color ? 'blue' : undefined} color={theme.color ? 'white' : undefined} wrap="truncate-end">
        {text.padEnd(width)}
      </Text>
    </Box>
  );
}
