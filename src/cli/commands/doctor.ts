import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { describeError } from '../../errors.js';
import { setupScriptCommand } from '../../package-info.js';
import { loadSettings } from '../../settings.js';
import { createDockerClient, describeDockerHost, pingDocker } from '../../workstation/docker/docker-client.js';
import { doctorExtraChecks, type Check, type CheckResult } from './doctor-checks.js';
import { visibleControls } from '../../visible-controls.js';

const run = promisify(execFile);


function nodeCheck(): Check {
  return () => {
    const major = Number(process.versions.node.split('.')[0]);
    return Promise.resolve(
      major >= 20
        ? { name: 'Node.js', ok: true, detail: `v${process.versions.node}` }
        : { name: 'Node.js', ok: false, detail: `v${process.versions.node} is too old`, fix: 'install Node.js 20 or newer' },
    );
  };
}

function dockerCheck(): Check {
  return async () => {
    const host = describeDockerHost();
    const docker = createDockerClient();
    try {
      await pingDocker(docker, { timeoutMs: 3000 });
      const version = await docker.version();
      return { name: 'Docker engine', ok: true, detail: `${host} (engine ${version.Version}, API ${version.ApiVersion})` };
    } catch (error) {
      return {
        name: 'Docker engine',
        ok: false,
        detail: `not reachable at ${host} (${describeError(error instanceof Error && error.cause !== undefined ? error.cause : error)})`,
        fix: process.env.DOCKER_HOST
          ? `start the engine at ${host}, or unset DOCKER_HOST to use the local one`
          : setupScriptCommand()
            ? `start it: \`${setupScriptCommand()}\` (Debian/Ubuntu: installs docker.io and starts dockerd), or \`sudo dockerd &\``
            : 'start it: Debian/Ubuntu: `sudo apt-get install docker.io`, then `sudo dockerd &`',
      };
    }
  };
}

function mmdebstrapCheck(): Check {
  return async () => {
    try {
      const { stdout } = await run('mmdebstrap', ['--version'], { timeout: 5000 });
      return { name: 'mmdebstrap', ok: true, detail: stdout.trim() };
    } catch {
      return {
        name: 'mmdebstrap',
        ok: false,
        warning: true,
        detail: 'not installed (needed only to build the workstation image from Debian packages)',
        fix: '`sudo apt-get install mmdebstrap`, or build with `nexora image build --dockerfile` where base images can be pulled',
      };
    }
  };
}

function settingsCheck(): Check {
  return () => {
    try {
      const settings = loadSettings();
      return Promise.resolve({
        name: 'Settings',
        ok: true,
        detail: `VNC ports ${settings.vncPorts.join('-')}, CDP ports ${settings.cdpPorts.join('-')}`,
      });
    } catch (error) {
      return Promise.resolve({ name: 'Settings', ok: false, detail: describeError(error) });
    }
  };
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check Node, the Docker engine, the workstation image, the database and the port ranges')
    .option('--json', 'print the checks as JSON')
    .action(async (options: { json?: boolean }) => {
      const checks: Check[] = [nodeCheck(), settingsCheck(), dockerCheck(), mmdebstrapCheck(), ...doctorExtraChecks()];
      const results: CheckResult[] = [];
      for (const check of checks) {
        try {
          results.push(await check());
        } catch (error) {
          results.push({ name: 'check', ok: false, detail: describeError(error) });
        }
      }
      if (options.json) {
        console.log(JSON.stringify(results, null, 2));
      } else {
        for (const result of results) {
          const mark = result.ok ? '✓' : result.warning ? '!' : '✗';
          // Details quote the engine and the workstation: inert on the terminal.
          console.log(visibleControls(`${mark} ${result.name}: ${result.detail}`));
          if (!result.ok && result.fix) console.log(visibleControls(`    fix: ${result.fix}`));
        }
      }
      const failed = results.filter((result) => !result.ok && !result.warning);
      if (failed.length > 0) {
        if (!options.json) console.log(`\n${failed.length} check${failed.length === 1 ? '' : 's'} failed.`);
        process.exitCode = 1;
      } else if (!options.json) {
        console.log('\nAll checks passed.');
      }
    });
}
