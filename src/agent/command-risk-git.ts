/**
 * The git forms that lose work or make the user's own git run a program: judged for
 * command-risk.ts, after the shell's parsing, whatever the spelling (`-c` settings, flag order,
 * combined flags).
 */

/** Settings that make git run a program (on the host, too, when written into .git/config). */
export const hostGitSettings = /^(core\.(fsmonitor|pager|hookspath|sshcommand|editor|askpass|gitproxy)|sequence\.editor|diff\.external|(diff|merge|filter)\..+\.(command|driver|clean|smudge|process|textconv)|alias\..+|credential\.helper|gpg\.program|uploadpack\.packobjectshook|include\.path|includeif\..+)$/i;

const globalValueOptions = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--exec-path']);

/** Adds to `reasons` what `git ARGS` would destroy or run. */
export function judgeGit(args: readonly string[], reasons: Set<string>): void {
  let index = 0;
  while (index < args.length && (args[index] ?? '').startsWith('-')) {
    const option = args[index] ?? '';
    const value = globalValueOptions.has(option) ? args[index + 1] : option.includes('=') ? option.slice(option.indexOf('=') + 1) : undefined;
    if (option === '-c' || option === '--config-env') {
      const key = (value ?? '').split('=', 1)[0] ?? '';
      if (hostGitSettings.test(key)) reasons.add(`git -c ${key}=… makes git run a program of the command's choosing`);
      if (/^clean\.requireforce$/i.test(key)) reasons.add('git -c clean.requireForce=… turns off the safety of git clean');
    }
    if (option === '--exec-path' && value !== undefined) reasons.add('git --exec-path runs git commands from another directory');
    index += globalValueOptions.has(option) ? 2 : 1;
  }
  const sub = args[index];
  const { options, operands, dashDash } = splitOptions(args.slice(index + 1));
  const has = (pattern: RegExp, ...long: string[]): boolean => options.some((option) => long.includes(option.split('=', 1)[0] ?? '') || (/^-[a-zA-Z]+$/.test(option) && pattern.test(option)));
  switch (sub) {
    case 'push': {
      const force = options.some((option) => option === '--force' || option === '--mirror' || option === '--delete' || option === '--prune') || has(/^-[a-zA-Z]*[fd]/);
      const forcedRefspec = operands.slice(1).some((refspec) => refspec.startsWith('+') || refspec.startsWith(':'));
      if (force || forcedRefspec) reasons.add('force-pushes or deletes on the remote (rewrites shared history; --force-with-lease is allowed)');
      return;
    }
    case 'reset':
      if (options.some((option) => ['--hard', '--merge', '--keep'].includes(option))) reasons.add("discards uncommitted changes in the user's files (git reset --hard)");
      return;
    case 'clean':
      // Any spelling: requireForce can be turned off by -c, by the config or by the environment.
      if (!has(/^-[a-zA-Z]*n/, '--dry-run')) reasons.add("deletes untracked files in the user's project (git clean)");
      return;
    case 'stash':
      if (operands[0] === 'drop' || operands[0] === 'clear') reasons.add(`throws away stashed changes for good (git stash ${operands[0]})`);
      return;
    case 'checkout':
      if (has(/^-[a-zA-Z]*f/, '--force') || (dashDash && operands.length > 0) || operands.some((operand) => operand === '.' || operand === ':/' || operand.includes('*'))) {
        reasons.add("discards uncommitted changes in the user's files (git checkout -- …)");
      }
      return;
    case 'restore':
      // Only `--staged` alone leaves the files themselves alone.
      if (!has(/^-[a-zA-Z]*S/, '--staged') || has(/^-[a-zA-Z]*W/, '--worktree')) reasons.add("overwrites the user's files with a committed version (git restore)");
      return;
    case 'rm':
      if (!options.includes('--cached')) reasons.add("deletes the user's files (git rm)");
      return;
    case 'branch':
      if (has(/^-[a-zA-Z]*D/) || (has(/^-[a-zA-Z]*d/, '--delete') && has(/^-[a-zA-Z]*f/, '--force'))) reasons.add('deletes a branch that may hold unmerged work (git branch -D)');
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
}

function splitOptions(args: readonly string[]): { options: string[]; operands: string[]; dashDash: boolean } {
  const options: string[] = [];
  const operands: string[] = [];
  let dashDash = false;
  for (const arg of args) {
    if (!dashDash && arg === '--') dashDash = true;
    else if (!dashDash && arg.startsWith('-') && arg.length > 1) options.push(arg);
    else operands.push(arg);
  }
  return { options, operands, dashDash };
}
