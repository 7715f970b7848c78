// @jsxRuntime automatic
// @jsxImportSource react
import { createContext, useContext } from 'react';

/** Colours by role; all undefined when colour is off (NO_COLOR), so text stays plain. */
export interface Theme {
  color: boolean;
  accent: string | undefined;
  muted: string | undefined;
  error: string | undefined;
  success: string | undefined;
  user: string | undefined;
}

export function createTheme(color: boolean): Theme {
  return {
    color,
    accent: color ? 'cyan' : undefined,
    muted: color ? 'gray' : undefined,
    error: color ? 'red' : undefined,
    success: color ? 'green' : undefined,
    user: color ? 'yellow' : undefined,
  };
}

/** Colour is on unless NO_COLOR is set to anything non-empty (https://no-color.org) or the terminal is dumb. */
export function colorEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return env.TERM !== 'dumb';
}

export const ThemeContext = createContext<Theme>(createTheme(true));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
