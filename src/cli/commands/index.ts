import type { Command } from 'commander';
import { registerCompletionCommand } from './completion.js';
import { registerConfigCommand } from './config.js';
import { registerDbCommand } from './db.js';
import { registerDemoCommand } from './demo.js';
import { registerDoctorCommand } from './doctor.js';
import { registerImageCommand } from './image.js';
import { registerPoolCommand } from './pool.js';
import { registerRunCommand } from './run.js';
import { registerSessionCommand } from './session.js';
import { registerKeysCommand } from './keys.js';
import { registerViewCommand } from './view.js';
import { registerExportCommand } from './export.js';
import { registerReplayCommand } from './replay.js';
import { registerInitCommand } from './init.js';
import { registerTuiCommand } from './tui.js';
import { registerTrustCommand } from './trust.js';

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerConfigCommand(program);
  registerDbCommand(program);
  registerDemoCommand(program);
  registerDoctorCommand(program);
  registerImageCommand(program);
  registerPoolCommand(program);
  registerRunCommand(program);
  registerSessionCommand(program);
  registerKeysCommand(program);
  registerViewCommand(program);
  registerExportCommand(program);
  registerReplayCommand(program);
  registerInitCommand(program);
  registerTuiCommand(program);
  registerTrustCommand(program);
  registerCompletionCommand(program);
}
