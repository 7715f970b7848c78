// Writes dist/build-id.txt, run by `npm run build` last: the version and a hash of everything
// built (each dist file's path and content). Every install of one tarball is then the same
// build — a global CLI and a project's SDK from it agree with one server — and any rebuild
// that changes what runs is a new one. (It was the install-time mtime of a file.)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const output = join(dist, 'build-id.txt');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
  .filter((file) => file !== output)
  .sort();
const hash = createHash('sha256');
for (const file of files) {
  hash.update(relative(dist, file)).update('\0').update(readFileSync(file)).update('\0');
}
writeFileSync(output, `${version}+${hash.digest('hex').slice(0, 16)}\n`);
