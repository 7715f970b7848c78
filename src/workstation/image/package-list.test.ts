import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NexoraError } from '../../errors.js';
import { imageFilesDirectory } from './image-definition.js';
import { debianPackageNames, packageNamesFor, parsePackageList } from './package-list.js';

describe('parsePackageList', () => {
  it('reads names, comments and per-distro alternatives', () => {
    const entries = parsePackageList('# heading\nxvfb\nchromium   ubuntu:debian/chromium  # a snap there\nfoo ubuntu:bar fedora:-\n\n');
    expect(debianPackageNames(entries)).toEqual(['xvfb', 'chromium', 'foo']);
    expect(packageNamesFor(entries, 'ubuntu')).toEqual({ apt: ['xvfb', 'bar'], debian: ['chromium'] });
    expect(packageNamesFor(entries, 'fedora')).toEqual({ apt: ['xvfb', 'chromium'], debian: [] });
    expect(packageNamesFor(entries, 'debian')).toEqual({ apt: ['xvfb', 'chromium', 'foo'], debian: [] });
  });

  it.each([
    ['Xvfb', 'not a Debian package name'],
    ['vim ubuntu', 'is not <distro>:<name>'],
    ['vim\nvim', 'listed twice'],
    ['vim debian:vim-nox', 'already the Debian one'],
    ['# nothing', 'lists no packages'],
  ])('rejects %j with a message naming the problem', (text, message) => {
    expect(() => parsePackageList(text)).toThrow(message);
    try {
      parsePackageList(text);
    } catch (error) {
      expect(NexoraError.is(error, 'invalid-config')).toBe(true);
    }
  });

  it('parses the shipped list, which names every tool the workstation promises', () => {
    const names = debianPackageNames(parsePackageList(readFileSync(join(imageFilesDirectory(), 'packages.txt'), 'utf8')));
    for (const required of ['tigervnc-standalone-server', 'netbase', 'locales', 'ca-certificates', 'xvfb', 'x11vnc', 'fluxbox', 'xterm', 'tmux', 'chromium', 'chromium-driver', 'libnss-wrapper', 'socat', 'x11-utils', 'tesseract-ocr-eng']) {
      expect(names).toContain(required);
    }
  });
});
