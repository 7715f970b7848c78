import type { Command } from 'commander';
import { registerDoctorCommand } from './doctor.js';

/** Each command lives in its own file and registers itself here. */
export function registerCommands(program: Command): void {
  registerDoctorCommand(program);
}
