import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalApprover } from '../cli/terminal-approver.js';
import { approvalPrompt } from './approval-prompt.js';

describe('approvalPrompt', () => {
  it('shows the whole command on one quoted line, the hidden part visible, and says so', () => {
    const prompt = approvalPrompt({ tool: 'execute', command: 'rm -rf ~ #\r\x1b[2K    npm test', reasons: ['deletes files outside /workspace (~)'] });
    expect(prompt.heading).toBe('⚠ The agent wants to run:');
    expect(prompt.command).toBe('«rm -rf ~ #␍␛[2K    npm test»');
    expect(prompt.notes).toEqual([expect.stringContaining('characters a terminal would act on or hide')]);
    expect(prompt.because).toBe('because it deletes files outside /workspace (~).');
  });

  it('joins the lines of a multi-line command and says how many there are', () => {
    const prompt = approvalPrompt({ tool: 'keyboard', command: 'npm test\nrm -rf ~\n', reasons: ['x'], cwd: '/workspace/a\u202eb' });
    expect(prompt.heading).toBe('⚠ The agent wants to type and submit:');
    expect(prompt.command).toBe('«npm test␤rm -rf ~␤»');
    expect(prompt.notes).toEqual(['It is 3 lines, joined here: ␤ marks each line break.', 'It runs in /workspace/a<U+202E>b.']);
  });

  it('adds nothing to an ordinary command', () => {
    expect(approvalPrompt({ tool: 'execute', command: 'git push --force', reasons: ['rewrites the remote history'] }).notes).toEqual([]);
  });
});

describe('terminalApprover', () => {
  it('asks with the visible command and takes "n" as no', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let written = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (written += chunk));
    const ask = terminalApprover({ input, output });
    const decision = ask({ tool: 'execute', command: 'rm -rf ~ #\r\x1b]8;;http://x\x1b\\\x1b[2K npm test\x07', reasons: ['deletes your home'] }, { signal: new AbortController().signal });
    // The question is written before the answer is read.
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toContain('«rm -rf ~ #␍␛]8;;http://x␛\\␛[2K npm test␇»');
    input.write('n\r');
    expect(await decision).toEqual({ approved: false, reason: 'the person answered no' });
    // readline draws its own prompt with escape sequences; none of the command's reached the output.
    // eslint-disable-next-line no-control-regex -- looking for the very characters the rule warns about
    expect(written).not.toMatch(/\u001b\]|\u0007|\r\u001b\[2K npm/);
  });
});
