/**
 * Whether a git config file a workstation wrote could make git on the host run a program. Git has
 * dozens of keys that name commands (`core.fsmonitor`, `core.pager`, `core.hooksPath`,
 * `diff.external`, `filter.*.clean`, `credential.helper`, `alias.*`, `include.path`, …) and adds
 * more in new versions, so this is an allow-list: only keys that `git init`, `git clone`,
 * `git submodule` and everyday use write, and that cannot name a program, pass. Anything else,
 * and anything the parser does not understand, is risky.
 */

/** Keys that never name a program, by `section.key` (lowercase), or `section.*.key` for subsections. */
const HARMLESS_KEYS = new Set([
  'core.repositoryformatversion',
  'core.filemode',
  'core.bare',
  'core.logallrefupdates',
  'core.ignorecase',
  'core.precomposeunicode',
  'core.symlinks',
  'core.autocrlf',
  'core.eol',
  'core.safecrlf',
  'core.quotepath',
  'core.checkstat',
  'core.trustctime',
  'core.sharedrepository',
  'core.worktree',
  'extensions.objectformat',
  'extensions.refstorage',
  'user.name',
  'user.email',
  'init.defaultbranch',
  'gc.auto',
  'pull.rebase',
  'pull.ff',
  'push.default',
  'fetch.prune',
  'color.ui',
  'lfs.repositoryformatversion',
  'remote.*.url',
  'remote.*.pushurl',
  'remote.*.fetch',
  'remote.*.push',
  'remote.*.tagopt',
  'remote.*.prune',
  'remote.*.mirror',
  'branch.*.remote',
  'branch.*.pushremote',
  'branch.*.merge',
  'branch.*.rebase',
  'submodule.*.url',
  'submodule.*.active',
  'submodule.*.branch',
  'submodule.*.update',
]);

/** `submodule.*.update = !command` runs the command on `git submodule update`. */
const SUBMODULE_UPDATE_MODES = new Set(['checkout', 'rebase', 'merge', 'none']);

/** Transports that run a program (`ext::cmd`, `fd::`), and option-like URLs (`-oProxyCommand=…`). */
function riskyUrl(value: string): boolean {
  return /^[A-Za-z0-9+.-]+::/.test(value) || value.startsWith('-') || /^ext:/i.test(value);
}

/** The config's problems, one line each (`core.fsmonitor`, `line 3: not understood`); empty when harmless. */
export function gitConfigRisks(text: string): string[] {
  const risks: string[] = [];
  let section: { name: string; subsection: string | undefined } | undefined;
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      section = parseSectionHeader(line);
      if (!section) risks.push(`line ${index + 1}: section header not understood`);
      continue;
    }
    const entry = parseEntry(line);
    if (!section || !entry) {
      risks.push(`line ${index + 1}: not understood`);
      continue;
    }
    const key = `${section.name}.${section.subsection === undefined ? '' : '*.'}${entry.key}`;
    const shown = `${section.name}.${section.subsection === undefined ? '' : `${section.subsection}.`}${entry.key}`;
    if (!HARMLESS_KEYS.has(key)) risks.push(shown);
    else if ((entry.key === 'url' || entry.key === 'pushurl') && riskyUrl(entry.value)) risks.push(`${shown} (a transport or option that runs a program)`);
    else if (key === 'submodule.*.update' && !SUBMODULE_UPDATE_MODES.has(entry.value)) risks.push(`${shown} (a command)`);
    // `include.path`/`includeIf.*.path` are not in the list: another file's keys would apply.
  }
  return risks;
}

/** `[core]`, `[remote "origin"]`; the old `[section.sub]` form and escapes count as not understood. */
function parseSectionHeader(line: string): { name: string; subsection: string | undefined } | undefined {
  const plain = /^\[([A-Za-z0-9-]+)\]\s*(?:[#;].*)?$/.exec(line);
  if (plain?.[1]) return { name: plain[1].toLowerCase(), subsection: undefined };
  const quoted = /^\[([A-Za-z0-9-]+)\s+"([^"\\]*)"\]\s*(?:[#;].*)?$/.exec(line);
  if (quoted?.[1] && quoted[2] !== undefined) return { name: quoted[1].toLowerCase(), subsection: quoted[2] };
  return undefined;
}

/** `key = value` or a bare boolean `key`; a value with a backslash (escapes, continuations) is not understood. */
function parseEntry(line: string): { key: string; value: string } | undefined {
  const match = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
  if (!match?.[1]) return undefined;
  const rawValue = match[2];
  if (rawValue === undefined) return { key: match[1].toLowerCase(), value: 'true' };
  if (rawValue.includes('\\')) return undefined;
  let value = '';
  let quoted = false;
  for (const char of rawValue) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '#' || char === ';')) break;
    else value += char;
  }
  if (quoted) return undefined;
  return { key: match[1].toLowerCase(), value: value.trim() };
}
