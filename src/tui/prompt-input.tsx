// @jsxRuntime automatic
// @jsxImportSource react
import { Box, Text, useInput } from 'ink';
import { useRef, useState, type ReactElement } from 'react';
import { useTheme } from './theme.js';

/** Applies one key to the prompt's text; returns the new text and whether to submit. */
export function editPrompt(value: string, input: string, key: { return: boolean; meta: boolean; backspace: boolean; delete: boolean; ctrl: boolean }): { value: string; submit: boolean } {
  if (key.return) {
    // A trailing backslash or Alt+Enter continues on a new line; Enter alone sends.
    if (key.meta) return { value: `${value}\n`, submit: false };
    if (value.endsWith('\\')) return { value: `${value.slice(0, -1)}\n`, submit: false };
    return { value, submit: true };
  }
  if (key.backspace || key.delete) return { value: [...value].slice(0, -1).join(''), submit: false };
  if (key.ctrl && input === 'u') return { value: '', submit: false };
  if (key.ctrl || key.meta) return { value, submit: false };
  // Pasted text arrives in one piece, with \r for line breaks.
  return { value: value + input.replace(/\r\n?/g, '\n'), submit: false };
}

/** A multi-line prompt: Enter sends, `\` + Enter or Alt+Enter adds a line, Ctrl+U clears. */
export function PromptInput(props: { onSubmit: (text: string) => void; active: boolean; width: number; hint?: string; maxRows?: number }): ReactElement {
  const theme = useTheme();
  const [value, setValue] = useState('');
  // Keys can arrive faster than React re-renders: edit the latest text, not the rendered one.
  const latest = useRef('');
  const update = (text: string): void => {
    latest.current = text;
    setValue(text);
  };
  useInput(
    (input, key) => {
      if (key.escape || key.tab || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.leftArrow || key.rightArrow) return;
      if (key.ctrl && (input === 'c' || input === 'd' || input === 'o')) return;
      const current = latest.current;
      const next = editPrompt(current, input, key);
      if (next.submit) {
        if (current.trim() === '') return;
        update('');
        props.onSubmit(current);
      } else {
        update(next.value);
      }
    },
    { isActive: props.active },
  );
  const lines = value.split('\n');
  const shown = lines.slice(-(props.maxRows ?? 5));
  return (
    <Box flexDirection="column" width={props.width}>
      {shown.map((line, index) => (
        <Box key={index}>
          <Text color={theme.accent}>{index === 0 && shown.length === lines.length ? '› ' : '  '}</Text>
          <Text wrap="wrap">
            {line}
            {index === shown.length - 1 ? <Text inverse>{' '}</Text> : null}
          </Text>
        </Box>
      ))}
      {value === '' && props.hint ? <Text color={theme.muted}>{props.hint}</Text> : null}
    </Box>
  );
}
