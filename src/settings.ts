import { z } from 'zod';
import { NexoraError } from './errors.js';

/** A closed range of TCP ports. */
export type PortRange = readonly [low: number, high: number];

/** Settings that come from the environment (the config file joins them later). */
export interface Settings {
  vncPorts: PortRange;
  cdpPorts: PortRange;
  databaseUrl: string | undefined;
}

const portRangeText = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'expected LOW-HIGH, e.g. 5900-5999')
  .transform((text) => text.split('-').map(Number) as [number, number])
  .refine(([low, high]) => low >= 1024 && high <= 65535, 'ports must be within 1024-65535')
  .refine(([low, high]) => low <= high, 'the first port must not be above the second');

function parseRange(env: NodeJS.ProcessEnv, name: string, fallback: PortRange): PortRange {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const parsed = portRangeText.safeParse(raw.trim());
  if (!parsed.success) {
    throw new NexoraError(
      'invalid-config',
      `${name}=${raw} is not a valid port range: ${parsed.error.issues[0]?.message ?? 'invalid'}. Use LOW-HIGH, e.g. ${name}=${fallback[0]}-${fallback[1]}.`,
    );
  }
  return parsed.data;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const vncPorts = parseRange(env, 'NEXORA_VNC_PORTS', [5900, 5999]);
  const cdpPorts = parseRange(env, 'NEXORA_CDP_PORTS', [9222, 9321]);
  if (vncPorts[0] <= cdpPorts[1] && cdpPorts[0] <= vncPorts[1]) {
    throw new NexoraError(
      'invalid-config',
      `NEXORA_VNC_PORTS (${vncPorts.join('-')}) and NEXORA_CDP_PORTS (${cdpPorts.join('-')}) overlap: give them separate ranges.`,
    );
  }
  const databaseUrl = env.DATABASE_URL && env.DATABASE_URL.length > 0 ? env.DATABASE_URL : undefined;
  return { vncPorts, cdpPorts, databaseUrl };
}
