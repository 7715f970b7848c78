import { posix } from 'node:path';
import { parseCommandLine, type SimpleCommand } from './shell-words.js';

/**
 * Which command lines are destructive enough to need a person's yes under the `risky` approval
 * policy. Screen text and files the model reads may carry injected instructions; this catches
 * the commands such instructions are after: deleting outside the project (or all of it),
 * force-pushing, running a script straight from the network, writing outside /workspace,
 * wiping disks, and git settings that would run programs on the user's host.
 *
 * It is a guardrail, not a sandbox (the container is the sandbox): a model set on it can write
 * a script and run that. It reads the command as the shell would (quotes, escapes, `sudo`,
 * `env`, `bash -c`, `$(…)`), so spacing, quoting and flag order do not hide a pattern.
 */
export interface CommandRisk {
  risky: boolean;
  /** Why, one phrase each ("deletes / (outside /workspace)"). */
  reasons: string[];
}

export interface CommandRiskOptions {
  /** The project's path in the workstation. */
  workspace?: string;
  /** Where the command runs (relative paths resolve against it). */
  cwd?: string;
}

const shells = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'busybox']);
const interpreters = new Set([...shells, 'python', 'python2', 'python3', 'perl', 'ruby', 'node', 'php', 'source', '.']);
const downloaders = new Set(['curl', 'wget', 'fetch', 'aria2c', 'http', 'https', 'lwp-request']);
/** Wrappers that run their arguments as a command; the value is how many option arguments take a value. */
const wrappers = new Set(['sudo', 'doas', 'env', 'command', 'builtin', 'exec', 'nice', 'nohup', 'time', 'timeout', 'stdbuf', 'xargs', 'ionice', 'setsid', 'unbuffer', 'chronic', 'watch']);
const wrapperValueOptions = new Set(['-u', '-g', '-n', '-C', '-I', '-L', '-P', '-s', '-d', '-E', '-k', '-o', '-e', '-i', '-c', '-p', '--user', '--group', '--signal', '--kill-after', '--max-procs', '--delimiter']);
const scratch = ['/tmp', '/var/tmp', '/dev/shm'];
const harmlessDevices = new Set(['/dev/null', '/dev/stdout', '/dev/stderr', '/dev/tty', '/dev/zero']);
const hostGitSettings = /^(core\.(fsmonitor|pager|hookspath|sshcommand|editor|askpass|gitproxy)|sequence\.editor|diff\.external|(diff|merge|filter)\..+\.(command|driver|clean|smudge|process|textconv)|alias\..+|credential\.helper|gpg\.program|uploadpack\.packobjectshook|include\.path|includeif\..+)$/i;

/** Judges one command line (as typed at a shell, or passed to execute). */
export function commandRisk(commandLine: string, options: CommandRiskOptions = {}): CommandRisk {
  const workspace = posix.normalize(options.workspace ?? '/workspace');
  const reasons = new Set<string>();
  judgeLine(commandLine, { workspace, cwd: options.cwd ? posix.resolve(workspace, options.cwd) : workspace }, reasons, 0);
  return { risky: reasons.size > 0, reasons: [...reasons] };
}

interface Context {
  workspace: string;
  cwd: string;
}

function judgeLine(line: string, context: Context, reasons: Set<string>, depth: number): void {
  if (depth > 4) return;
  if (/:\s*\(\s*\)\s*\{[^}]*:\s*\|\s*:/.test(line)) reasons.add('is a fork bomb');
  const parsed = parseCommandLine(line);
  for (const inner of parsed.substitutions) {
    judgeLine(inner, context, reasons, depth + 1);
    if (downloaders.has(firstCommandName(inner) ?? '') && /(^|[\s;&|(])(sh|bash|zsh|dash|ksh|python3?|perl|ruby|node|source|eval|\.)\s+(-c\s+)?["']?(<\(|\$\(|`)/.test(line)) {
      reasons.add('runs a script downloaded from the network');
    }
  }
  for (const pipeline of parsed.pipelines) {
    let downloaded = false;
    for (const simple of pipeline) {
      const command = unwrap(simple);
      if (downloaded && interpreters.has(command.name)) reasons.add(`pipes a download from the network into ${command.name}`);
      if (downloaders.has(command.name)) downloaded = true;
      for (const target of simple.writes) {
        const where = outside(target, context);
        if (where) reasons.add(`writes ${target}${where}`);
      }
      judgeCommand(command, context, reasons, depth);
    }
  }
}

function firstCommandName(line: string): string | undefined {
  const first = parseCommandLine(line).pipelines[0]?.[0];
  return first ? unwrap(first).name : undefined;
}

interface Command {
  name: string;
  args: string[];
}

/** The command a simple command really runs: assignments, `sudo`, `env` and the like taken off. */
function unwrap(simple: SimpleCommand): Command {
  const words = [...simple.words];
  for (;;) {
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? '')) words.shift();
    const name = baseName(words[0] ?? '');
    if (!wrappers.has(name)) break;
    words.shift();
    while (words.length > 0 && ((words[0] ?? '').startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? ''))) {
      const option = words.shift() ?? '';
      if (wrapperValueOptions.has(option)) words.shift();
    }
    // timeout DURATION, nice's old -N form and watch's interval come before the command.
    if (name === 'timeout' && /^\d/.test(words[0] ?? '')) words.shift();
  }
  return { name: baseName(words[0] ?? ''), args: words.slice(1) };
}

function baseName(word: string): string {
  return posix.basename(word.replace(/^\\/, ''));
}

function judgeCommand(command: Command, context: Context, reasons: Set<string>, depth: number): void {
  const { name, args } = command;
  if (shells.has(name) || name === 'eval') {
    const script = name === 'eval' ? args.join(' ') : args[args.findIndex((arg) => /^-[a-z]*c[a-z]*$/.test(arg)) + 1];
    if (script !== undefined && (name === 'eval' || args.some((arg) => /^-[a-z]*c[a-z]*$/.test(arg)))) judgeLine(script, context, reasons, depth + 1);
    return;
  }
  if (/^mkfs(\..+)?$/.test(name) || ['wipefs', 'shred', 'fdisk', 'sfdisk', 'parted', 'blkdiscard'].includes(name)) {
    reasons.add(`${name} wipes or reformats storage`);
    return;
  }
  const { options, operands } = splitOptions(args);
  switch (name) {
    case 'rm': {
      const recursive = options.some((option) => /^-[a-zA-Z]*[rR]/.test(option) || option === '--recursive');
      if (options.includes('--no-preserve-root')) reasons.add('rm --no-preserve-root');
      for (const target of operands) {
        const where = outside(target, context);
        if (where) reasons.add(`deletes ${target}${where}`);
        else if (recursive && wholeProject(target, context)) reasons.add(`deletes the whole project (${target} in ${context.cwd})`);
        else if (recursive && /^\$/.test(target)) reasons.add(`deletes ${target}, a variable that could be empty or point anywhere`);
      }
      return;
    }
    case 'git':
      judgeGit(args, context, reasons);
      return;
    case 'cp':
    case 'install':
    case 'ln':
    case 'rsync':
    case 'scp': {
      const directory = optionValue(args, ['-t', '--target-directory']);
      const destination = directory ?? operands.at(-1);
      if (destination !== undefined && operands.length >= (directory ? 1 : 2)) {
        const where = outside(destination, context);
        if (where && !/^[^/]*:/.test(destination)) reasons.add(`writes ${destination}${where}`);
      }
      return;
    }
    case 'mv':
      for (const target of operands) {
        const where = outside(target, context);
        if (where) reasons.add(`moves ${target}${where}`);
      }
      return;
    case 'tee':
    case 'touch':
    case 'truncate':
    case 'mkdir':
    case 'rmdir':
    case 'unlink':
      for (const target of operands) {
        const where = outside(target, context);
        if (where) reasons.add(`${name === 'rmdir' || name === 'unlink' ? 'deletes' : 'writes'} ${target}${where}`);
      }
      return;
    case 'chmod':
    case 'chown':
    case 'chgrp':
      for (const target of operands.slice(options.some((option) => option.startsWith('--reference')) ? 0 : 1)) {
        const where = outside(target, context);
        if (where) reasons.add(`changes permissions of ${target}${where}`);
      }
      return;
    case 'dd':
      for (const arg of args) {
        if (!arg.startsWith('of=')) continue;
        const where = outside(arg.slice(3), context);
        if (where) reasons.add(`writes ${arg.slice(3)}${where}`);
      }
      return;
    case 'curl':
    case 'wget': {
      const output = optionValue(args, name === 'curl' ? ['-o', '--output'] : ['-O', '--output-document']);
      const where = output !== undefined ? outside(output, context) : undefined;
      if (output !== undefined && where) reasons.add(`writes ${output}${where}`);
      return;
    }
    case 'find': {
      const firstExpression = args.findIndex((arg) => /^[-(!]/.test(arg));
      const starts = firstExpression === -1 ? args : args.slice(0, firstExpression);
      const deletes = args.includes('-delete') || args.some((arg, index) => /^-exec(dir)?$/.test(arg) && ['rm', 'shred', 'unlink'].includes(baseName(args[index + 1] ?? '')));
      if (!deletes) return;
      for (const start of starts.length > 0 ? starts : ['.']) {
        const where = outside(start, context);
        if (where) reasons.add(`deletes files under ${start}${where}`);
      }
      return;
    }
    default:
      return;
  }
}

function judgeGit(args: string[], context: Context, reasons: Set<string>): void {
  // Global options come before the subcommand; -C and -c take a value.
  let index = 0;
  while (index < args.length && (args[index] ?? '').startsWith('-')) index += ['-C', '-c', '--git-dir', '--work-tree', '--namespace'].includes(args[index] ?? '') ? 2 : 1;
  const sub = args[index];
  const rest = args.slice(index + 1);
  const { options, operands } = splitOptions(rest);
  switch (sub) {
    case 'push': {
      const force = options.some((option) => option === '--force' || option === '--mirror' || option === '--delete' || /^-[a-zA-Z]*[fd]/.test(option));
      const forcedRefspec = operands.slice(1).some((refspec) => refspec.startsWith('+') || refspec.startsWith(':'));
      if (force || forcedRefspec) reasons.add('force-pushes or deletes on the remote (rewrites shared history; --force-with-lease is allowed)');
      return;
    }
    case 'reset':
      if (options.includes('--hard')) reasons.add("discards uncommitted changes in the user's files (git reset --hard)");
      return;
    case 'clean':
      if (options.some((option) => option === '--force' || /^-[a-zA-Z]*f/.test(option))) reasons.add("deletes untracked files in the user's project (git clean -f)");
      return;
    case 'checkout':
    case 'restore':
      if (operands.some((operand) => operand === '.' || operand === ':/' || operand === '*') || (sub === 'checkout' && options.some((option) => option === '--force' || /^-[a-zA-Z]*f/.test(option)))) {
        reasons.add(`discards uncommitted changes in the user's files (git ${sub} .)`);
      }
      return;
    case 'config': {
      if (options.some((option) => option === '--global' || option === '--system')) return;
      const key = operands.find((operand) => !operand.startsWith('-'));
      if (key !== undefined && hostGitSettings.test(key) && operands.length >= 2) reasons.add(`sets ${key} in the repository's .git/config, which your own git on the host would run`);
      return;
    }
    default:
      return;
  }
  void context;
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

/** The project directory itself, or a glob over its top level. */
function wholeProject(target: string, context: Context): boolean {
  const path = posix.resolve(context.cwd, target);
  return path === context.workspace || (posix.dirname(path) === context.workspace && /^[*?]+$|^\.\*$|^\.\[/.test(posix.basename(path)));
}

function isWithin(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}
