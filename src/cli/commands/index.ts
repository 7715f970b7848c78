import type { Command } from 'commander';
import { registerConfigCommand } from './config.js';
import { registerDemoCommand } from './demo.js';
import { registerDoctorCommand } from './doctor.js';
import { registerImageCommand } from './image.js';

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerConfigCommand(program);
  registerDemoCommand(program);
  registerDoctorCommand(program);
  registerImageCommand(program);
}
