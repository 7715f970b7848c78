import { posix } from 'node:path';
import { judgeGit } from './command-risk-git.js';
import { parseCommandLine, type SimpleCommand } from './shell-words.js';

/**
 * Which command lines need a person's yes under the `risky` approval policy. Screen text and
 * files the model reads may carry injected instructions; this catches the commands such
 * instructions are after — deleting or overwriting the user's files, losing git work,
 * force-pushing, writing outside /workspace or into dotfiles, wiping disks — and every way of
 * hiding a command from this judgement: pipes into a shell or interpreter, `eval` of built
 * text, decoded payloads, a variable or substitution where the command's name goes,
 * interpreter one-liners, history expansion.
 *
 * It reads the command as the shell would (quotes, escapes, `sudo`, `env`, `xargs`, `bash -c`,
 * `$(…)`, `find -exec`), so spacing, quoting and flag order do not hide a pattern. It is a
 * guardrail, not a sandbox (the container is the sandbox): a script file the model wrote and
 * then runs is not read.
 */
export interface CommandRisk {
  risky: boolean;
  /** Why, one phrase each ("deletes files (rm)"). */
  reasons: string[];
}

export interface CommandRiskOptions {
  /** The project's path in the workstation. */
  workspace?: string;
  /** Where the command runs (relative paths resolve against it). */
  cwd?: string;
  /** Typed at an interactive shell (the terminal): history expansion (`!!`, `^a^b`) applies. */
  interactive?: boolean;
}

const shells = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'busybox', 'tcsh', 'csh', 'ash', 'rbash']);
/** Interpreters and the options that give them a program on the command line. */
const oneLinerOptions: Record<string, RegExp> = {
  python: /^-[a-zA-Z]*c/,
  python2: /^-[a-zA-Z]*c/,
  python3: /^-[a-zA-Z]*c/,
  pypy3: /^-[a-zA-Z]*c/,
  perl: /^-[a-zA-Z]*[eE]/,
  ruby: /^-[a-zA-Z]*e/,
  node: /^(-[a-zA-Z]*[ep]|--eval|--print)/,
  nodejs: /^(-[a-zA-Z]*[ep]|--eval|--print)/,
  bun: /^(-e|--eval|-p|--print)$/,
  deno: /^(eval)$/,
  php: /^-[a-zA-Z]*r/,
  lua: /^-[a-zA-Z]*e/,
  luajit: /^-[a-zA-Z]*e/,
  Rscript: /^-e$/,
  osascript: /^-e$/,
};
/** Wrappers that run their arguments as a command. */
const wrappers = new Set(['sudo', 'doas', 'env', 'command', 'builtin', 'exec', 'nice', 'nohup', 'time', 'timeout', 'stdbuf', 'xargs', 'ionice', 'setsid', 'unbuffer', 'chronic', 'watch', 'flock', 'chroot', 'runuser', 'taskset', 'strace', 'ltrace', 'catchsegv', 'fakeroot']);
const wrapperValueOptions = new Set(['-u', '-g', '-n', '-C', '-I', '-L', '-P', '-s', '-d', '-E', '-k', '-o', '-e', '-i', '-c', '-p', '--user', '--group', '--signal', '--kill-after', '--max-procs', '--delimiter', '--replace', '-a', '--arg-file']);
/** Words that start a compound command: the command after them is what runs. */
const reservedWords = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', '{', '}', 'fi', 'done', 'coproc']);
const scratch = ['/tmp', '/var/tmp', '/dev/shm'];
const harmlessDevices = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/zero']);
/** Variables that change how the shell shows or runs command lines. */
const shellControlVariables = /^(PS[0-4]|PROMPT_COMMAND|BASH_ENV|ENV|IFS|HISTFILE|INPUTRC|PROMPT_COMMAND\[\d+\]|LD_PRELOAD|LD_LIBRARY_PATH|PATH|BASH_FUNC_.+)=/;

/** Judges one command line (as typed at a shell, or passed to execute). */
export function commandRisk(commandLine: string, options: CommandRiskOptions = {}): CommandRisk {
  const workspace = posix.normalize(options.workspace ?? '/workspace');
  const reasons = new Set<string>();
  const context: Context = { workspace, cwd: options.cwd ? posix.resolve(workspace, options.cwd) : workspace };
  if (options.interactive) judgeHistoryExpansion(commandLine, reasons);
  judgeLine(commandLine, context, reasons, 0);
  return { risky: reasons.size > 0, reasons: [...reasons] };
}

interface Context {
  workspace: string;
  cwd: string;
}

function judgeLine(line: string, context: Context, reasons: Set<string>, depth: number): void {
  if (depth > 6) {
    reasons.add('nests commands deeper than Nexora reads');
    return;
  }
  if (/:\s*\(\s*\)\s*\{[^}]*:\s*\|\s*:/.test(line)) reasons.add('is a fork bomb');
  const parsed = parseCommandLine(line);
  for (const inner of parsed.substitutions) judgeLine(inner, context, reasons, depth + 1);
  for (const pipeline of parsed.pipelines) {
    pipeline.forEach((simple, position) => {
      for (const target of simple.writes) judgeWrite(target, 'writes', context, reasons);
      const command = unwrap(simple, reasons, context, depth);
      if (command) judgeCommand({ ...command, piped: position > 0, inputs: simple.inputs }, context, reasons, depth);
    });
  }
}

interface Command {
  name: string;
  /** The word as written (a path, or `$x`). */
  word: string;
  args: string[];
}

/** The command a simple command really runs: assignments, reserved words, `sudo`, `env` and the like taken off. */
function unwrap(simple: SimpleCommand, reasons: Set<string>, context: Context, depth: number): Command | undefined {
  const words = [...simple.words];
  for (;;) {
    while (words.length > 0 && (reservedWords.has(words[0] ?? '') || /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(words[0] ?? ''))) {
      const word = words.shift() ?? '';
      if (shellControlVariables.test(word)) reasons.add(`sets ${word.split('=', 1)[0] ?? ''}, which changes how the shell shows or runs command lines`);
    }
    const name = baseName(words[0] ?? '');
    if (!wrappers.has(name)) break;
    words.shift();
    while (words.length > 0 && ((words[0] ?? '').startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? ''))) {
      const option = words.shift() ?? '';
      if (shellControlVariables.test(option)) reasons.add(`sets ${option.split('=', 1)[0] ?? ''}, which changes how the shell shows or runs command lines`);
      // env -S splits one string into a command line of its own.
      if (name === 'env' && (option === '-S' || option.startsWith('--split-string'))) {
        const value = option.includes('=') ? option.slice(option.indexOf('=') + 1) : words.shift();
        if (value !== undefined) judgeLine(value, context, reasons, depth + 1);
        continue;
      }
      if (wrapperValueOptions.has(option)) words.shift();
    }
    // timeout DURATION and watch's interval come before the command.
    if ((name === 'timeout' || name === 'flock' || name === 'taskset' || name === 'chroot') && words.length > 1) words.shift();
  }
  const word = words[0];
  if (word === undefined) return undefined;
  return { name: baseName(word), word, args: words.slice(1) };
}

function baseName(word: string): string {
  return posix.basename(word.replace(/^\\/, ''));
}

function judgeCommand(command: Command & { piped: boolean; inputs: string[] }, context: Context, reasons: Set<string>, depth: number): void {
  const { name, word, args } = command;
  // What the shell expands here decides which program runs: Nexora cannot see it. Arithmetic
  // expands to a number (a substitution inside it is judged on its own).
  const expanded = word.replace(/\$\(\([^]*?\)\)/g, '0');
  if (/\$[A-Za-z_{(0-9@*#?$!'"\\-]|`/.test(expanded)) reasons.add(`runs a command whose name comes from a variable or substitution (${word}), which Nexora cannot see`);
  else if (word !== '[' && word !== '[[' && /[*?[]|\{[^}]*(,|\.\.)[^}]*\}/.test(expanded)) reasons.add(`runs a command whose name is a pattern the shell expands (${word})`);
  const fedCode = command.piped || command.inputs.some((input) => input === '<<' || input === '<<<' || isCodeStream(input));
  if (shells.has(name)) {
    const scriptIndex = args.findIndex((arg) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(arg));
    if (scriptIndex !== -1) {
      const script = args[scriptIndex + 1];
      if (script !== undefined) judgeLine(script, context, reasons, depth + 1);
      return;
    }
    const operand = args.find((arg) => !arg.startsWith('-') || arg === '-');
    if ((operand === undefined && fedCode) || args.includes('-s') || (operand !== undefined && isCodeStream(operand))) {
      reasons.add(`runs commands that ${name} reads from a pipe, a here-document or a stream, which Nexora cannot see`);
    }
    return;
  }
  if (name === 'eval') {
    const script = args.join(' ');
    if (/[$`]/.test(script)) reasons.add('evals text built when it runs, which Nexora cannot see');
    judgeLine(script, context, reasons, depth + 1);
    return;
  }
  if (name === 'source' || name === '.') {
    if ((args[0] === undefined && fedCode) || (args[0] !== undefined && isCodeStream(args[0]))) reasons.add(`${name} runs commands from a pipe or stream, which Nexora cannot see`);
    return;
  }
  const oneLiner = oneLinerOptions[name] ?? (/^python3?\.\d+$/.test(name) ? oneLinerOptions.python : undefined);
  if (oneLiner) {
    if (args.some((arg) => oneLiner.test(arg))) reasons.add(`runs a ${name} one-liner, whose effect Nexora cannot judge`);
    const operand = args.find((arg) => !arg.startsWith('-') || arg === '-');
    if ((operand === undefined && fedCode) || (operand !== undefined && isCodeStream(operand))) reasons.add(`runs ${name} code from a pipe, a here-document or a stream, which Nexora cannot see`);
    return;
  }
  if (['awk', 'gawk', 'mawk', 'nawk'].includes(name)) {
    if (args.some((arg) => /\bsystem\s*\(|\|\s*&?\s*"|"\s*\|\s*getline|\|&/.test(arg))) reasons.add(`runs commands from an ${name} program (system() or a pipe)`);
    return;
  }
  if (isDecoder(name, args)) reasons.add(`decodes a hidden payload (${[name, ...args.filter((arg) => arg.startsWith('-'))].join(' ')}), which hides what would run`);
  if (/^mkfs(\..+)?$/.test(name) || ['wipefs', 'shred', 'fdisk', 'sfdisk', 'parted', 'blkdiscard'].includes(name)) {
    reasons.add(`${name} wipes or reformats storage`);
    return;
  }
  const { options, operands } = splitOptions(args);
  switch (name) {
    case 'rm':
    case 'unlink':
    case 'srm':
      reasons.add(`deletes files (${[name, ...args].join(' ').slice(0, 120)})`);
      if (options.includes('--no-preserve-root')) reasons.add('rm --no-preserve-root');
      return;
    case 'truncate':
      reasons.add(`empties or cuts files (truncate ${operands.join(' ')})`);
      return;
    case 'git':
      judgeGit(args, reasons);
      return;
    case 'alias':
      // An alias is a command line run later under another name: judge it now.
      for (const definition of operands) {
        const value = definition.includes('=') ? definition.slice(definition.indexOf('=') + 1) : undefined;
        if (value !== undefined) judgeLine(value, context, reasons, depth + 1);
      }
      return;
    case 'trap':
      if (operands[0] !== undefined) judgeLine(operands[0], context, reasons, depth + 1);
      return;
    case 'export':
    case 'declare':
    case 'typeset':
    case 'readonly':
    case 'local':
      for (const operand of operands) if (shellControlVariables.test(operand)) reasons.add(`sets ${operand.split('=', 1)[0] ?? ''}, which changes how the shell shows or runs command lines`);
      return;
    case 'bind':
      reasons.add('changes what keys do in the shell (bind)');
      return;
    case 'fc':
    case 'history':
      if (name === 'fc' || options.includes('-s')) reasons.add(`runs or rewrites commands from the shell's history (${name}), which Nexora cannot see`);
      return;
    case 'set':
      if (args.some((arg, index) => arg === '-o' && ['vi', 'emacs'].includes(args[index + 1] ?? ''))) reasons.add("changes the shell's key bindings (set -o vi)");
      return;
    case 'cp':
    case 'install':
    case 'ln':
    case 'rsync':
    case 'scp': {
      const directory = optionValue(args, ['-t', '--target-directory']);
      const destination = directory ?? operands.at(-1);
      if (destination !== undefined && operands.length >= (directory ? 1 : 2) && !/^[^/]*:/.test(destination)) judgeWrite(destination, 'writes', context, reasons);
      return;
    }
    case 'mv': {
      const destination = optionValue(args, ['-t', '--target-directory']) ?? operands.at(-1);
      for (const target of operands) judgeWrite(target, 'moves', context, reasons);
      if (destination !== undefined && !inWorkspace(destination, context)) reasons.add(`moves files out of the project (to ${destination})`);
      return;
    }
    case 'tee':
      for (const target of operands) judgeWrite(target, 'writes', context, reasons);
      return;
    case 'touch':
    case 'mkdir':
    case 'rmdir':
      // An empty file or directory runs nothing, dotfile or not: only where it goes matters.
      for (const target of operands) {
        const where = outside(target, context);
        if (where) reasons.add(`${name === 'rmdir' ? 'deletes' : 'writes'} ${target}${where}`);
      }
      return;
    case 'chmod':
    case 'chown':
    case 'chgrp':
      if (options.some((option) => option === '--recursive' || /^-[a-zA-Z]*R/.test(option))) reasons.add(`changes permissions or owners recursively (${name} -R)`);
      for (const target of operands.slice(options.some((option) => option.startsWith('--reference')) ? 0 : 1)) {
        const where = outside(target, context);
        if (where) reasons.add(`changes permissions of ${target}${where}`);
      }
      return;
    case 'dd':
      for (const arg of args) if (arg.startsWith('of=')) reasons.add(`overwrites ${arg.slice(3)} (dd of=)`);
      return;
    case 'curl':
    case 'wget': {
      const output = optionValue(args, name === 'curl' ? ['-o', '--output'] : ['-O', '--output-document']);
      if (output !== undefined) judgeWrite(output, 'writes', context, reasons);
      return;
    }
    case 'find':
      judgeFind(args, context, reasons, depth);
      return;
    default:
      return;
  }
}

/** `find … -delete` deletes; `-exec CMD … ;` runs CMD, judged as a command of its own. */
function judgeFind(args: string[], context: Context, reasons: Set<string>, depth: number): void {
  if (args.includes('-delete')) reasons.add('deletes files (find -delete)');
  for (let index = 0; index < args.length; index++) {
    if (!/^-(exec|execdir|ok|okdir)$/.test(args[index] ?? '')) continue;
    const end = args.findIndex((arg, position) => position > index && (arg === ';' || arg === '+'));
    const words = args.slice(index + 1, end === -1 ? undefined : end);
    const command = unwrap({ words, writes: [], inputs: [] }, reasons, context, depth);
    if (command) judgeCommand({ ...command, piped: false, inputs: [] }, context, reasons, depth + 1);
  }
  for (const option of ['-fprint', '-fprint0', '-fprintf', '-fls']) {
    const target = optionValue(args, [option]);
    if (target !== undefined) judgeWrite(target, 'writes', context, reasons);
  }
}

/** A path a program reads code from that is really a stream: `-`, /dev/stdin, /dev/fd/N, `<(…)`. */
function isCodeStream(path: string): boolean {
  return path === '-' || path.startsWith('<(') || /^\/dev\/(stdin|fd\/)|^\/proc\/[^/]+\/fd\//.test(path);
}

function isDecoder(name: string, args: string[]): boolean {
  if (['base64', 'basenc', 'base32'].includes(name)) return args.some((arg) => arg === '--decode' || /^-[a-zA-Z]*[dD]/.test(arg));
  if (name === 'xxd') return args.some((arg) => /^-[a-zA-Z]*r/.test(arg) || arg === '-revert');
  if (name === 'openssl') return args.some((arg) => arg === '-d' || arg === '-base64' || arg === 'base64');
  return ['uudecode', 'uudeview'].includes(name);
}

/** Options (words starting with -) and operands; everything after `--` is an operand. */
function splitOptions(args: string[]): { options: string[]; operands: string[] } {
  const options: string[] = [];
  const operands: string[] = [];
  let ended = false;
  for (const arg of args) {
    if (!ended && arg === '--') ended = true;
    else if (!ended && arg.startsWith('-') && arg.length > 1) options.push(arg);
    else operands.push(arg);
  }
  return { options, operands };
}

function optionValue(args: string[], names: string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    if (names.includes(arg)) return args[index + 1];
    const long = names.find((name) => name.startsWith('--') && arg.startsWith(`${name}=`));
    if (long) return arg.slice(long.length + 1);
  }
  return undefined;
}

/** A write (or move, or delete) of `target`: outside the project and scratch space, or into a dotfile. */
function judgeWrite(target: string, verb: string, context: Context, reasons: Set<string>): void {
  const where = outside(target, context);
  if (where) reasons.add(`${verb} ${target}${where}`);
  else if (isDotfile(target, context)) reasons.add(`${verb} ${target}, a dotfile (shell, git and tool settings that run programs live there)`);
}

/** " (outside /workspace)" when `target` is outside the project and scratch space, else undefined. */
function outside(target: string, context: Context): string | undefined {
  if (target === '' || target === '-') return undefined;
  if (/^(~|\$HOME\b|\$\{HOME\})/.test(target)) return ` (the home directory, outside ${context.workspace})`;
  if (target.startsWith('$')) return undefined;
  const path = posix.resolve(context.cwd, target);
  if (harmlessDevices.has(path) || path.startsWith('/dev/fd/') || path.startsWith('/proc/self/fd/')) return undefined;
  if (isWithin(path, context.workspace) || scratch.some((dir) => isWithin(path, dir))) return undefined;
  return ` (outside ${context.workspace})`;
}

function inWorkspace(target: string, context: Context): boolean {
  return !/^(~|\$)/.test(target) && isWithin(posix.resolve(context.cwd, target), context.workspace);
}

/** A path with a component that starts with a dot (`.bashrc`, `.git/hooks/x`), outside scratch space. */
function isDotfile(target: string, context: Context): boolean {
  const path = posix.resolve(context.cwd, target);
  if (scratch.some((dir) => isWithin(path, dir))) return false;
  return path.split('/').some((part) => part.startsWith('.') && part !== '.' && part !== '..');
}

function isWithin(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

/**
 * History expansion (`!!`, `!-2`, `!rm`, `^old^new`): an interactive shell replaces it with an
 * earlier command line before running, so the line on the screen is not what runs.
 */
function judgeHistoryExpansion(line: string, reasons: Set<string>): void {
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (char === "'") quoted = !quoted;
    else if (char === '\\') index++;
    else if (!quoted && char === '!' && index + 1 < line.length && !/[\s=(]/.test(line[index + 1] ?? '')) {
      reasons.add(`expands an earlier command from the history (${line.slice(index, index + 8)}…), which Nexora cannot see`);
      return;
    }
  }
  if (/^\s*\^/.test(line)) reasons.add('re-runs the previous command with a substitution (^old^new)');
}
