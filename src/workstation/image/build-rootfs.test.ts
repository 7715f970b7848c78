import { describe, expect, it } from 'vitest';
import { mmdebstrapArguments } from './build-rootfs.js';
import { loadImageDefinition } from './image-definition.js';
import { debianPackageNames } from './package-list.js';

describe('mmdebstrapArguments', () => {
  const definition = loadImageDefinition();

  it('asks for a lean apt-variant bookworm tar on stdout with every listed package', () => {
    const args = mmdebstrapArguments(definition, { NEXORA_DEBIAN_MIRROR: 'http://mirror.example/debian' });
    expect(args).toContain('--variant=apt');
    expect(args).toContain('--format=tar');
    expect(args).toContain('--aptopt=Apt::Install-Recommends "false"');
    const include = args.find((arg) => arg.startsWith('--include='));
    expect(include?.slice('--include='.length).split(',')).toEqual(debianPackageNames(definition.packages));
    const suite = args.indexOf('bookworm');
    expect(args[suite + 1]).toBe('-');
    expect(args.slice(suite + 2)).toEqual(['deb http://mirror.example/debian bookworm main', 'deb http://mirror.example/debian bookworm-updates main']);
  });

  it('quotes the files folder for the customize hook, quotes included', () => {
    const args = mmdebstrapArguments({ ...definition, filesDirectory: "/opt/it's here" });
    expect(args).toContain(`--customize-hook=sh '/opt/it'\\''s here/install-files.sh' "$1" '/opt/it'\\''s here'`);
  });
});
