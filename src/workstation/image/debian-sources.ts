import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The Debian release the workstation is built from. */
export const debianSuite = 'bookworm';

/**
 * mmdebstrap mirror arguments (one-line `deb …` entries) for Debian bookworm, taken from
 * this machine's apt sources when it has bookworm entries (a local mirror or snapshot, say),
 * else none, which makes mmdebstrap use deb.debian.org with updates and security.
 * NEXORA_DEBIAN_MIRROR (a URI) overrides both.
 */
export function debianMirrorArguments(options: { env?: NodeJS.ProcessEnv; aptDirectory?: string } = {}): string[] {
  const env = options.env ?? process.env;
  const override = env.NEXORA_DEBIAN_MIRROR?.trim();
  if (override) {
    return [`deb ${override} ${debianSuite} main`, `deb ${override} ${debianSuite}-updates main`];
  }
  const aptDirectory = options.aptDirectory ?? '/etc/apt';
  return readHostSources(aptDirectory)
    .filter((source) => /debian/.test(source.uri) && source.suites.some((suite) => suite === debianSuite || suite.startsWith(`${debianSuite}-`)))
    .flatMap((source) =>
      source.suites
        .filter((suite) => [debianSuite, `${debianSuite}-updates`, `${debianSuite}-security`].includes(suite))
        .map((suite) => `deb ${source.signedBy ? `[signed-by=${source.signedBy}] ` : ''}${source.uri} ${suite} main`),
    );
}

interface AptSource {
  uri: string;
  suites: string[];
  signedBy?: string;
}

function readHostSources(aptDirectory: string): AptSource[] {
  const sources: AptSource[] = [];
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const oneLine = read(join(aptDirectory, 'sources.list'));
  if (oneLine) sources.push(...parseOneLineSources(oneLine));
  let names: string[] = [];
  try {
    names = readdirSync(join(aptDirectory, 'sources.list.d'));
  } catch {
    // No sources.list.d: only sources.list counts.
  }
  for (const name of names.sort()) {
    const text = read(join(aptDirectory, 'sources.list.d', name));
    if (!text) continue;
    if (name.endsWith('.list')) sources.push(...parseOneLineSources(text));
    else if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
  }
  return sources;
}

/** `deb [options] uri suite components…` lines. */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!match?.[2] || !match[3]) continue;
    const signedBy = /signed-by=(\S+)/.exec(match[1] ?? '')?.[1];
    sources.push({ uri: match[2], suites: [match[3]], ...(signedBy ? { signedBy } : {}) });
  }
  return sources;
}

/** deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Signed-By:`), separated by blank lines. */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (match?.[1]) fields.set(match[1].toLowerCase(), (match[2] ?? '').trim());
    }
    if (fields.get('enabled') === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
    const signedBy = fields.get('signed-by');
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      // An inline key block cannot be passed on a one-line entry: leave it to the default keyring.
      sources.push({ uri, suites, ...(signedBy && signedBy.startsWith('/') ? { signedBy } : {}) });
    }
  }
  return sources;
}
