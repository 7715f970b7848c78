// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { clip, describeToolInput, formatMs } from './format.js';
import { useTheme } from './theme.js';
import type { ToolCallEntry } from './tui-state.js';
import { visibleControls } from '../visible-controls.js';

/**
 * One tool call: `✓ execute "npm test"  exit code 0 after 812 ms  0.8s` on one line, or with
 * its full arguments and outcome underneath when expanded.
 */
export function ToolCallLine(props: { call: ToolCallEntry; width: number; expanded: boolean }): ReactElement {
  const theme = useTheme();
  const { call, width } = props;
  const mark = call.status === 'running' ? '…' : call.isError ? '✗' : '✓';
  const markColor = call.status === 'running' ? theme.accent : call.isError ? theme.error : theme.success;
  const duration = call.durationMs !== undefined ? formatMs(call.durationMs) : '';
  const args = describeToolInput(call.toolName, call.input);
  // Tool names, arguments and outcomes come from the model and the workstation: inert, on one line.
  const head = visibleControls(`${call.toolName} ${args}`, { oneLine: true });
  if (!props.expanded) {
    const tail = call.status === 'running' ? 'running' : `${visibleControls(call.summary ?? '', { oneLine: true })}${call.imageSent ? ' [img]' : ''}`;
    const room = Math.max(10, width - 4 - duration.length);
    // In a narrow terminal the outcome goes first to the chopping block, then the arguments.
    const line = clip(width < 60 ? head : `${clip(head, Math.ceil(room * 0.6))}  ${tail}`, room);
    return (
      <Box>
        <Text color={markColor}>{mark} </Text>
        <Box flexGrow={1}>
          <Text wrap="truncate-end">{line}</Text>
        </Box>
        <Text color={theme.muted}> {duration}</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column">
      <Box>
        <Text color={markColor}>{mark} </Text>
        <Text bold>{visibleControls(call.toolName, { oneLine: true })}</Text>
        <Text color={theme.muted}> {duration}</Text>
      </Box>
      <Box paddingLeft={2} flexDirection="column">
        <Text wrap="wrap">args: {visibleControls(JSON.stringify(call.input) ?? '', { oneLine: true })}</Text>
        <Text wrap="wrap" color={call.isError ? theme.error : undefined}>
          {call.status === 'running' ? 'running…' : `result: ${visibleControls(call.summary ?? '')}${call.imageSent ? ' (screenshot sent to the model)' : ''}`}
        </Text>
      </Box>
    </Box>
  );
}
