import type { Check } from './doctor.js';

/** Checks of parts that land on their own (image, database, ports). */
export function doctorExtraChecks(): Check[] {
  return [];
}
