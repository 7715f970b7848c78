// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { useTheme } from './theme.js';
import { ToolCallLine } from './tool-call-line.js';
import type { TranscriptEntry } from './tui-state.js';
import { visibleControls } from '../visible-controls.js';

/**
 * The conversation, bottom-aligned in a fixed height: the newest entries show, older ones
 * scroll off the top; `scrollBack` hides that many of the newest to look further back. Text from
 * the model, the workstation and errors is shown with its control characters visible: Ink writes
 * a string's escape sequences to the terminal as they are.
 */
export function TranscriptView(props: { entries: readonly TranscriptEntry[]; height: number; width: number; expanded: boolean; scrollBack: number }): ReactElement {
  const theme = useTheme();
  const end = props.entries.length - props.scrollBack;
  const visible = props.entries.slice(Math.max(0, end - props.height), end);
  return (
    <Box flexDirection="column" height={props.height} width={props.width} overflow="hidden" justifyContent="flex-end">
      {visible.map((entry) => {
        switch (entry.kind) {
          case 'user':
            return (
              <Box key={entry.id} marginTop={1}>
                <Text color={theme.user} bold>
                  {'› '}
                </Text>
                <Text wrap="wrap">{visibleControls(entry.text)}</Text>
              </Box>
            );
          case 'assistant':
            return (
              <Text key={entry.id} wrap="wrap">
                {visibleControls(entry.text.trim())}
              </Text>
            );
          case 'step':
            return (
              <Text key={entry.id} color={theme.muted}>
                step {entry.step} · {visibleControls(entry.model, { oneLine: true })}
              </Text>
            );
          case 'notice':
            return (
              <Text key={entry.id} wrap="wrap" color={entry.tone === 'error' ? theme.error : entry.tone === 'success' ? theme.success : theme.muted}>
                {visibleControls(entry.text)}
              </Text>
            );
          case 'tool':
            return <ToolCallLine key={entry.id} call={entry} width={props.width} expanded={props.expanded} />;
        }
      })}
      {props.scrollBack > 0 ? <Text color={theme.accent}>↓ {props.scrollBack} newer (PgDn)</Text> : null}
    </Box>
  );
}
