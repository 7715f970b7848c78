import { visibleControls } from '../visible-controls.js';
import type { GitMetadataChange, NeutralisedGitEntry } from './git-metadata.js';

/** Paths and reasons come from the workstation: on one line, their controls made visible. */
const line = (text: string): string => visibleControls(text, { oneLine: true });

/** A report a person can act on; empty when nothing changed and nothing was neutralised. */
export function describeGitChanges(
  changes: readonly GitMetadataChange[],
  options: {
    incomplete?: boolean;
    workspaceDir: string;
    neutralised?: readonly NeutralisedGitEntry[];
    /** What should have been moved aside but could not be. */
    failed?: readonly { path: string; reason: string; error: string }[];
  },
): string {
  const neutralised = options.neutralised ?? [];
  const failed = options.failed ?? [];
  if (changes.length === 0 && neutralised.length === 0 && failed.length === 0 && !options.incomplete) return '';
  const lines: string[] = [];
  for (const entry of failed) {
    lines.push(`Danger: ${line(entry.path)} in ${line(options.workspaceDir)} is ${line(entry.reason)} and could not be moved aside (${line(entry.error)}): remove it before running git there.`);
  }
  if (neutralised.length > 0) {
    lines.push(`Nexora moved aside what the session wrote in ${line(options.workspaceDir)} that git on this machine would have run:`);
    for (const entry of neutralised.slice(0, 20)) lines.push(`  neutralised     ${line(entry.path)} — ${line(entry.reason)} (now ${line(entry.movedTo)})`);
    if (neutralised.length > 20) lines.push(`  … and ${neutralised.length - 20} more`);
  }
  if (changes.length > 0 || options.incomplete) {
    lines.push(`Warning: the session changed git metadata in ${line(options.workspaceDir)}, which git on this machine reads:`);
    lines.push(...changes.slice(0, 20).map((change) => `  ${change.change.padEnd(15)} ${line(change.path)} — ${change.risk}`));
    if (changes.length > 20) lines.push(`  … and ${changes.length - 20} more`);
    if (options.incomplete) lines.push('  (the workspace is too large to check completely: look at any .git directory yourself)');
    lines.push('Inspect these before running git in the workspace (e.g. `git -c core.fsmonitor= -c core.hooksPath=/dev/null status`, and look at the files above).');
  }
  return lines.join('\n');
}
