/** A top-level window on the workstation's display, as the window manager lists it. */
export interface DisplayWindow {
  /** The X window id, e.g. 0x00a00003. */
  id: string;
  /** Its title (untrusted text, cut to 200 characters). */
  title: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Whether it has the keyboard focus. */
  focused: boolean;
  /** Whether it is the terminal (the xterm running tmux). */
  terminal: boolean;
}

/**
 * Lists the window manager's client windows (EWMH `_NET_CLIENT_LIST`) with title, geometry and
 * which one is active, in one shell run. `$1` is the pid of the terminal's tmux client, whose
 * parent is the terminal's xterm (matched through `_NET_WM_PID`). Tab-separated output, the
 * title last.
 */
export const LIST_WINDOWS_SCRIPT = String.raw`
export DISPLAY=:1
terminal_pid=$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')
active=$(xprop -root -notype _NET_ACTIVE_WINDOW 2>/dev/null | sed -n 's/.*# \(0x[0-9a-f]*\).*/\1/p')
printf 'active\t%s\n' "$active"
for id in $(xprop -root -notype _NET_CLIENT_LIST 2>/dev/null | sed 's/^[^#]*# //; s/,/ /g'); do
  geometry=$(xwininfo -id "$id" 2>/dev/null | awk '/Absolute upper-left X/ {x=$NF} /Absolute upper-left Y/ {y=$NF} /^ *Width:/ {w=$NF} /^ *Height:/ {h=$NF} END {print x "\t" y "\t" w "\t" h}')
  pid=$(xprop -id "$id" -notype _NET_WM_PID 2>/dev/null | sed -n 's/.* = //p')
  title=$(xprop -id "$id" -notype _NET_WM_NAME 2>/dev/null | sed -n 's/^[^=]*= "\(.*\)"$/\1/p')
  [ -n "$title" ] || title=$(xprop -id "$id" -notype WM_NAME 2>/dev/null | sed -n 's/^[^=]*= "\(.*\)"$/\1/p')
  terminal=0
  [ -n "$terminal_pid" ] && [ "$pid" = "$terminal_pid" ] && terminal=1
  printf 'window\t%s\t%s\t%s\t%s\n' "$id" "$geometry" "$terminal" "$title"
done
`;

/** Parses LIST_WINDOWS_SCRIPT's output; lines that do not parse are skipped. */
export function parseWindowList(text: string): DisplayWindow[] {
  const lines = text.split('\n');
  const active = lines.find((line) => line.startsWith('active\t'))?.split('\t')[1] ?? '';
  const windows: DisplayWindow[] = [];
  for (const line of lines) {
    const fields = line.split('\t');
    if (fields[0] !== 'window' || fields.length < 8) continue;
    const [x, y, width, height] = fields.slice(2, 6).map(Number) as [number, number, number, number];
    if (![x, y, width, height].every(Number.isFinite)) continue;
    const id = fields[1]!;
    windows.push({
      id,
      title: fields.slice(7).join('\t').slice(0, 200),
      x,
      y,
      width,
      height,
      focused: active !== '' && Number.parseInt(id, 16) === Number.parseInt(active, 16),
      terminal: fields[6] === '1',
    });
  }
  return windows.slice(0, 100);
}

/** One line per window for the model, e.g. `* "Firefox" 800x600 at (10, 20)`. */
export function describeWindows(windows: readonly DisplayWindow[]): string {
  if (windows.length === 0) return 'No windows are open on the display.';
  return windows
    .map((window) => `${window.focused ? '* ' : '  '}${JSON.stringify(window.title)} ${window.width}x${window.height} at (${window.x}, ${window.y})${window.terminal ? ' (the terminal)' : ''}${window.focused ? ' (focused)' : ''}`)
    .join('\n');
}
