import { NexoraError } from '../../errors.js';

/** One line of packages.txt: the Debian bookworm name and the names on other distributions. */
export interface PackageEntry {
  /** The package's name in Debian bookworm. */
  name: string;
  /** Per distribution (os-release ID): another name, `-` for none, or `debian/<name>`. */
  alternatives: Readonly<Record<string, string>>;
  line: number;
}

const namePattern = /^[a-z0-9][a-z0-9+.-]*$/;
const alternativePattern = /^([a-z0-9]+):(-|(?:debian\/)?[a-z0-9][a-z0-9+.-]*)$/;

/**
 * Parses packages.txt (syntax documented at the top of that file). A malformed line is an
 * error naming the line, since a typo there would otherwise surface as an apt failure
 * minutes into a build.
 */
export function parsePackageList(text: string, source = 'packages.txt'): PackageEntry[] {
  const entries: PackageEntry[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const fields = raw.replace(/#.*/, '').trim().split(/\s+/).filter((field) => field.length > 0);
    const [name, ...rest] = fields;
    if (name === undefined) return;
    const invalid = (why: string): NexoraError =>
      new NexoraError('invalid-config', `${source} line ${line}: ${why} (in "${raw.trim()}"). Fix the line; the syntax is described at the top of the file.`);
    if (!namePattern.test(name)) throw invalid(`"${name}" is not a Debian package name`);
    if (seen.has(name)) throw invalid(`"${name}" is listed twice`);
    seen.add(name);
    const alternatives: Record<string, string> = {};
    for (const field of rest) {
      const match = alternativePattern.exec(field);
      if (!match?.[1] || !match[2]) throw invalid(`"${field}" is not <distro>:<name>, <distro>:- or <distro>:debian/<name>`);
      if (match[1] === 'debian') throw invalid('the first name is already the Debian one');
      alternatives[match[1]] = match[2];
    }
    entries.push({ name, alternatives, line });
  });
  if (entries.length === 0) throw new NexoraError('invalid-config', `${source} lists no packages: add one package name per line.`);
  return entries;
}

/** The names to install on Debian bookworm (what mmdebstrap gets). */
export function debianPackageNames(entries: readonly PackageEntry[]): string[] {
  return entries.map((entry) => entry.name);
}

/**
 * The names to install on another distribution: `apt` from its own archive, `debian` from
 * Debian bookworm through a pinned source. install-packages.sh applies the same rules.
 */
export function packageNamesFor(entries: readonly PackageEntry[], distro: string): { apt: string[]; debian: string[] } {
  const apt: string[] = [];
  const debian: string[] = [];
  for (const entry of entries) {
    const name = distro === 'debian' ? entry.name : (entry.alternatives[distro] ?? entry.name);
    if (name === '-') continue;
    if (name.startsWith('debian/')) debian.push(name.slice('debian/'.length));
    else apt.push(name);
  }
  return { apt, debian };
}
