import { Argument, type Command } from 'commander';

const shells = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof shells)[number];

/** One command as completion sees it: the words that name it, its options and its subcommands. */
interface CompletionNode {
  /** Canonical names from the root, e.g. ['session', 'list']. */
  path: string[];
  /** The names (aliases too) of each command on the path, e.g. [['session', 'sessions'], ['list']]. */
  lineage: string[][];
  names: string[];
  description: string;
  /** Values the first argument must take, when it has a fixed set (`completion bash`). */
  choices: string[];
  options: { flags: string[]; description: string; takesValue: boolean }[];
  children: CompletionNode[];
}

/** `nexora completion bash|zsh|fish`: a completion script generated from the commands themselves. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    // Commander refuses other values as a usage error, and completion offers these.
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(shells))
    .addHelpText(
      'after',
      '\nInstall:\n  bash  echo \'source <(nexora completion bash)\' >> ~/.bashrc\n  zsh   echo \'source <(nexora completion zsh)\' >> ~/.zshrc   (after compinit)\n  fish  nexora completion fish > ~/.config/fish/completions/nexora.fish',
    )
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, program));
    });
}

export function completionScript(shell: Shell, program: Command): string {
  const root = completionTree(program);
  return shell === 'bash' ? bashScript(root) : shell === 'zsh' ? zshScript(root) : fishScript(root);
}

/** The command tree; the default command's options (the TUI's) are the root's too, as `nexora --model …` shows. */
export function completionTree(program: Command): CompletionNode {
  const node = (command: Command, path: string[], lineage: string[][]): CompletionNode => ({
    path,
    lineage,
    names: [command.name(), ...command.aliases()],
    description: command.description(),
    choices: command.registeredArguments[0]?.argChoices ?? [],
    options: command.options
      .filter((option) => !option.hidden)
      .map((option) => ({
        flags: [option.short, option.long].filter((flag): flag is string => flag !== undefined),
        description: option.description,
        takesValue: option.required || option.optional,
      })),
    children: command.commands.map((child) => node(child, [...path, child.name()], [...lineage, [child.name(), ...child.aliases()]])),
  });
  const root = node(program, [], []);
  const tui = root.children.find((child) => child.names[0] === 'tui');
  const standard = [
    { flags: ['-p', '--print'], description: 'run a task without the UI (as nexora run)', takesValue: true },
    { flags: ['-h', '--help'], description: 'show help', takesValue: false },
  ];
  root.options = [...root.options, ...(tui?.options ?? []), ...standard];
  for (const child of all(root)) if (child !== root) child.options = [...child.options, { flags: ['-h', '--help'], description: 'show help', takesValue: false }];
  return root;
}

function all(node: CompletionNode): CompletionNode[] {
  return [node, ...node.children.flatMap(all)];
}

const key = (node: CompletionNode): string => node.path.map((name) => `/${name}`).join('');

/** The case arms that follow command words (aliases included) to a node's canonical path. */
function pathArms(root: CompletionNode, arm: (patterns: string[], target: string) => string): string {
  return all(root)
    .filter((node) => node !== root)
    .map((node) => {
      const parent = node.path.slice(0, -1).map((name) => `/${name}`).join('');
      return arm(
        node.names.map((name) => `${parent}/${name}`),
        key(node),
      );
    })
    .join('\n');
}

function valueOptionArms(root: CompletionNode, arm: (patterns: string[]) => string): string {
  const patterns = all(root).flatMap((node) => node.options.filter((option) => option.takesValue).flatMap((option) => option.flags.map((flag) => `${key(node)} ${flag}`)));
  return patterns.length > 0 ? arm(patterns) : '';
}

function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function bashScript(root: CompletionNode): string {
  const words = all(root)
    .map((node) => `    ${shellWord(key(node))}) words=${shellWord([...node.children.map((child) => child.names[0] ?? ''), ...node.choices, ...node.options.flatMap((option) => option.flags)].join(' '))} ;;`)
    .join('\n');
  return `# nexora completion for bash. Load it with: source <(nexora completion bash)
_nexora() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmdpath= word words= i
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case "$cmdpath/$word" in
${pathArms(root, (patterns, target) => `      ${patterns.map(shellWord).join('|')}) cmdpath=${shellWord(target)} ;;`)}
    esac
  done
  case "$cmdpath $prev" in
${valueOptionArms(root, (patterns) => `    ${patterns.map(shellWord).join('|')}) return 0 ;;`)}
  esac
  case "$cmdpath" in
${words}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _nexora nexora
`;
}

function zshItem(name: string, description: string): string {
  return shellWord(`${name.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`);
}

function zshScript(root: CompletionNode): string {
  const arms = all(root)
    .map((node) => {
      const commands = [...node.children.map((child) => zshItem(child.names[0] ?? '', child.description)), ...node.choices.map((choice) => zshItem(choice, choice))].join(' ');
      const options = node.options.flatMap((option) => option.flags.map((flag) => zshItem(flag, option.description))).join(' ');
      return `    (${shellWord(key(node))}) commands=(${commands}); options=(${options}) ;;`;
    })
    .join('\n');
  return `#compdef nexora
# nexora completion for zsh. Load it with: source <(nexora completion zsh) (after compinit),
# or save it as _nexora in a directory on $fpath.
_nexora() {
  local cmdpath= word i
  local -a commands options
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    case "$cmdpath/$word" in
${pathArms(root, (patterns, target) => `      (${patterns.map(shellWord).join('|')}) cmdpath=${shellWord(target)} ;;`)}
    esac
  done
  case "$cmdpath \${words[CURRENT-1]}" in
${valueOptionArms(root, (patterns) => `    (${patterns.map(shellWord).join('|')}) _files; return ;;`)}
  esac
  case "$cmdpath" in
${arms}
  esac
  (( \${#commands} )) && _describe -t commands 'nexora command' commands
  _describe -t options 'option' options
}
if [[ "\${funcstack[1]}" == _nexora ]]; then _nexora "$@"; else compdef _nexora nexora; fi
`;
}

function fishScript(root: CompletionNode): string {
  const lines = ['# nexora completion for fish. Install it with: nexora completion fish > ~/.config/fish/completions/nexora.fish', 'complete -c nexora -f'];
  for (const node of all(root)) {
    const condition = fishCondition(node);
    for (const child of node.children) {
      for (const name of child.names) lines.push(`complete -c nexora -n ${shellWord(condition)} -a ${shellWord(name)} -d ${shellWord(child.description)}`);
    }
    for (const choice of node.choices) lines.push(`complete -c nexora -n ${shellWord(condition)} -a ${shellWord(choice)}`);
    for (const option of node.options) {
      const flags = option.flags.map((flag) => (flag.startsWith('--') ? `-l ${shellWord(flag.slice(2))}` : `-s ${shellWord(flag.slice(1))}`)).join(' ');
      lines.push(`complete -c nexora -n ${shellWord(condition)} ${flags}${option.takesValue ? ' -r -F' : ''} -d ${shellWord(option.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** True when the command line has named exactly this node: its path seen, none of its subcommands yet. */
function fishCondition(node: CompletionNode): string {
  const below = node.children.flatMap((child) => child.names);
  if (node.path.length === 0) return '__fish_use_subcommand';
  const seen = node.lineage.map((names) => `__fish_seen_subcommand_from ${names.join(' ')}`).join('; and ');
  return below.length > 0 ? `${seen}; and not __fish_seen_subcommand_from ${below.join(' ')}` : seen;
}
