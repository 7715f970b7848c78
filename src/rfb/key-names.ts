/** X keysyms of the named keys, by canonical name. Aliases map onto these names. */
export const namedKeysyms = {
  Return: 0xff0d,
  Escape: 0xff1b,
  Tab: 0xff09,
  BackSpace: 0xff08,
  Delete: 0xffff,
  Insert: 0xff63,
  Home: 0xff50,
  End: 0xff57,
  Page_Up: 0xff55,
  Page_Down: 0xff56,
  Up: 0xff52,
  Down: 0xff54,
  Left: 0xff51,
  Right: 0xff53,
  F1: 0xffbe,
  F2: 0xffbf,
  F3: 0xffc0,
  F4: 0xffc1,
  F5: 0xffc2,
  F6: 0xffc3,
  F7: 0xffc4,
  F8: 0xffc5,
  F9: 0xffc6,
  F10: 0xffc7,
  F11: 0xffc8,
  F12: 0xffc9,
  space: 0x0020,
  Shift_L: 0xffe1,
  Control_L: 0xffe3,
  Alt_L: 0xffe9,
  Super_L: 0xffeb,
  Menu: 0xff67,
  Print: 0xff61,
  Pause: 0xff13,
  Caps_Lock: 0xffe5,
  KP_Enter: 0xff8d,
} as const;

export type KeyName = keyof typeof namedKeysyms;

/** Other spellings people (and models) use, normalised (lower case, no `_`, `-` or spaces). */
const aliases: Record<string, KeyName> = {
  enter: 'Return',
  ret: 'Return',
  esc: 'Escape',
  del: 'Delete',
  ins: 'Insert',
  pgup: 'Page_Up',
  prior: 'Page_Up',
  pgdn: 'Page_Down',
  pgdown: 'Page_Down',
  next: 'Page_Down',
  arrowup: 'Up',
  arrowdown: 'Down',
  arrowleft: 'Left',
  arrowright: 'Right',
  spacebar: 'space',
  shift: 'Shift_L',
  ctrl: 'Control_L',
  control: 'Control_L',
  alt: 'Alt_L',
  option: 'Alt_L',
  meta: 'Alt_L',
  super: 'Super_L',
  win: 'Super_L',
  cmd: 'Super_L',
  command: 'Super_L',
  printscreen: 'Print',
  capslock: 'Caps_Lock',
};

/** Lower case without `_`, `-` and spaces, so `Page_Up`, `page-up` and `PageUp` meet. */
export function normaliseKeyName(name: string): string {
  return name.toLowerCase().replace(/[_\- ]/g, '');
}

const byNormalisedName = new Map<string, KeyName>();
for (const name of Object.keys(namedKeysyms) as KeyName[]) byNormalisedName.set(normaliseKeyName(name), name);
for (const [alias, name] of Object.entries(aliases)) byNormalisedName.set(alias, name);

/** The canonical key name for any accepted spelling, or undefined. */
export function lookupKeyName(name: string): KeyName | undefined {
  return byNormalisedName.get(normaliseKeyName(name));
}

/** Every accepted name, for error messages. */
export function describeKeyNames(): string {
  const names = ['Enter', 'Esc', 'PageUp', 'PageDown', ...Object.keys(namedKeysyms)];
  return [...new Set(names)].join(', ');
}
