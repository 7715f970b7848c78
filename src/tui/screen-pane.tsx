// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import { clip, tailLines } from './format.js';
import { useTheme } from './theme.js';
import { visibleControls } from '../visible-controls.js';

/** The bottom of the workstation's terminal, as the agent last saw it (its control characters visible: Ink passes them through). */
export function ScreenPane(props: { text: string; rows: number; width: number }): ReactElement {
  const theme = useTheme();
  const lines = tailLines(props.text, props.rows);
  const inner = Math.max(1, props.width - 2);
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={theme.muted} width={props.width} height={props.rows + 2}>
      {lines.length === 0 ? <Text color={theme.muted}>(no terminal yet)</Text> : lines.map((line, index) => <Text key={index}>{clip(visibleControls(line, { oneLine: true }), inner)}</Text>)}
    </Box>
  );
}
