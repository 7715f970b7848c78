import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface OpenInBrowserOptions {
  /** The address to open; it carries the view's access token. */
  url: string;
  /** A directory only this user can read (in the Nexora home) for the launcher page. */
  launcherDir: string;
  /** How long the launcher page stays on disk: the browser reads it at once. */
  keepLauncherMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Asks the desktop to open `url` in the default browser (xdg-open, open, or start). Returns
 * false when there is no desktop to ask; the caller then prints the address instead.
 *
 * The URL is not put on a command line: every user of the machine can read other processes'
 * arguments (/proc/PID/cmdline), and the URL is the view's password. The browser is given a
 * launcher page instead, readable only by this user, that forwards to the address.
 */
export function openInBrowser(options: OpenInBrowserOptions): Promise<boolean> {
  const launcher = writeLauncher(options.launcherDir, options.url);
  setTimeout(() => rmSync(launcher, { force: true }), options.keepLauncherMs ?? 60_000).unref();
  const target = pathToFileURL(launcher).href;
  const [command, args] =
    process.platform === 'darwin' ? ['open', [target]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', target]] : ['xdg-open', [target]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { stdio: 'ignore', detached: true, env: options.env ?? process.env });
      child.once('error', () => {
        rmSync(launcher, { force: true });
        resolve(false);
      });
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      rmSync(launcher, { force: true });
      resolve(false);
    }
  });
}

function writeLauncher(dir: string, url: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `open-${randomBytes(8).toString('hex')}.html`);
  const target = JSON.stringify(url).replace(/</g, '\\u003c');
  const attribute = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const page = `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0; url=${attribute}"><title>Nexora</title><script>location.replace(${target})</script>\n`;
  writeFileSync(file, page, { mode: 0o600, flag: 'wx' });
  return file;
}
