import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitConfigRisks } from './git-config-risk.js';

describe('gitConfigRisks', () => {
  it('passes what git init, git clone and git submodule write', () => {
    const root = mkdtempSync(join(tmpdir(), 'nexora-config-risk-'));
    try {
      execFileSync('git', ['init', '-q', join(root, 'origin')]);
      execFileSync('git', ['-C', join(root, 'origin'), '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'x']);
      execFileSync('git', ['clone', '-q', join(root, 'origin'), join(root, 'clone')]);
      expect(gitConfigRisks(readFileSync(join(root, 'origin', '.git', 'config'), 'utf8'))).toEqual([]);
      expect(gitConfigRisks(readFileSync(join(root, 'clone', '.git', 'config'), 'utf8'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(gitConfigRisks('[submodule "lib"]\n\turl = ../lib\n\tactive = true\n[core]\n\tworktree = ../../../lib\n')).toEqual([]);
  });

  it('flags every key that can name a program, includes, and what it cannot parse', () => {
    const cases: [string, string][] = [
      ['[core]\n\tfsmonitor = touch /tmp/x\n', 'core.fsmonitor'],
      ['[core]\n\tpager = less; touch /tmp/x\n', 'core.pager'],
      ['[core]\n\thooksPath = /tmp/hooks\n', 'core.hookspath'],
      ['[CORE]\n\tFSMonitor = x\n', 'core.fsmonitor'],
      ['[alias]\n\tst = !touch /tmp/x\n', 'alias.st'],
      ['[filter "lfs"]\n\tclean = touch /tmp/x\n', 'filter.lfs.clean'],
      ['[include]\n\tpath = ../evil\n', 'include.path'],
      ['[includeIf "gitdir:/"]\n\tpath = ../evil\n', 'includeif.gitdir:/.path'],
      ['[diff]\n\texternal = x\n', 'diff.external'],
      ['[credential]\n\thelper = !x\n', 'credential.helper'],
      ['[remote "o"]\n\turl = ext::sh -c touch% /tmp/x\n', 'remote.o.url (a transport or option that runs a program)'],
      ['[submodule "s"]\n\tupdate = !touch /tmp/x\n', 'submodule.s.update (a command)'],
      ['[core.fsmonitor]\n', 'line 1: section header not understood'],
      ['[core]\n\tfsmonitor = "a\\\n b"\n', 'line 2: not understood'],
      ['fsmonitor = x\n', 'line 1: not understood'],
      ['[core]\n\tbare = "unterminated\n', 'line 2: not understood'],
    ];
    for (const [text, risk] of cases) expect(gitConfigRisks(text), text).toContain(risk);
  });

  it('ignores comments, also after a value, but not inside quotes', () => {
    expect(gitConfigRisks('# [core] fsmonitor = x\n; hooksPath\n[core]\n\tbare = false # fsmonitor\n')).toEqual([]);
    expect(gitConfigRisks('[user]\n\tname = "a # b"\n')).toEqual([]);
  });
});
