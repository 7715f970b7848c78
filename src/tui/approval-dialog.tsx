// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text } from 'ink';
import type { ReactElement } from 'react';
import type { ApprovalRequest } from '../agent/approval.js';
import { approvalPrompt, type ApprovalPrompt } from '../output/approval-prompt.js';
import { useTheme } from './theme.js';

/** The rows the dialog takes at `width` columns: the whole command shows, wrapped, never cut. */
export function approvalDialogRows(request: ApprovalRequest, width: number): number {
  const prompt = approvalPrompt(request);
  const rows = (text: string): number => Math.max(1, Math.ceil(text.length / Math.max(1, width)));
  return rows(prompt.heading) + rows(`  ${prompt.command}`) + prompt.notes.reduce((sum, note) => sum + rows(`  ${note}`), 0) + rows(`  ${prompt.because}`) + 1;
}

/** A command waiting for the person's yes: the exact command (see approval-prompt.ts), why, and y/n. */
export function ApprovalDialog(props: { request: ApprovalRequest }): ReactElement {
  const theme = useTheme();
  const prompt: ApprovalPrompt = approvalPrompt(props.request);
  return (
    <Box flexDirection="column">
      <Text color={theme.user} bold>
        {prompt.heading}
      </Text>
      <Text wrap="wrap">  {prompt.command}</Text>
      {prompt.notes.map((note) => (
        <Text key={note} wrap="wrap" color={theme.muted}>
          {'  '}
          {note}
        </Text>
      ))}
      <Text wrap="wrap">  {prompt.because}</Text>
      <Text color={theme.user} bold>
        Allow it? [y]es, [n]o
      </Text>
    </Box>
  );
}
