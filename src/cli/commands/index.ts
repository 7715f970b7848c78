import type { CommandEntry } from '../register-commands.js';
import { sessionCommand } from './client-commands.js';

/**
 * Each command lives in its own file and is loaded only when it runs: `nexora session list`
 * does not import the agent, Ink or the embedded database, and `--help` imports none.
 */
export const commands: CommandEntry[] = [
  { name: 'config', description: 'inspect the configuration (nexora.json in the workspace over ~/.nexora/config.json)', load: async () => [(await import('./config.js')).registerConfigCommand] },
  { name: 'db', description: 'the session store: embedded PGlite by default, PostgreSQL when DATABASE_URL is set', load: async () => [(await import('./db.js')).registerDbCommand] },
  { name: 'demo', description: 'a scripted demonstration (no LLM): start a workstation, type into it, read it back, edit a file in vi, run it', load: async () => [(await import('./demo.js')).registerDemoCommand] },
  { name: 'doctor', description: 'check Node, the Docker engine, the workstation image, the database and the port ranges', load: async () => [(await import('./doctor.js')).registerDoctorCommand] },
  { name: 'image', description: 'build, list and remove the workstation image', load: async () => [(await import('./image.js')).registerImageCommand] },
  { name: 'pool', description: 'pre-started workstations that make `session start` nearly instant', load: async () => [(await import('./pool.js')).registerPoolCommand] },
  { name: 'run', description: 'run the agent on a task in a workstation with your project mounted at /workspace', load: async () => [(await import('./run.js')).registerRunCommand] },
  sessionCommand,
  { name: 'keys', description: 'provider API keys, stored encrypted (AES-256-GCM) with the master key in ~/.nexora/secrets', load: async () => [(await import('./keys.js')).registerKeysCommand] },
  { name: 'view', description: 'open the live web view: watch a workstation, read its transcript, take control (127.0.0.1 only, token in the URL)', load: async () => [(await import('./view.js')).registerViewCommand] },
  { name: 'tui', description: 'the interactive terminal UI (what `nexora` with no command opens)', load: async () => [(await import('./tui.js')).registerTuiCommand] },
  { name: 'init', description: 'write a starter AGENTS.md for this project (through the configured model, or a plain template)', load: async () => [(await import('./init.js')).registerInitCommand] },
  { name: 'trust', description: "trust the workspace's nexora.json as it is now, so it may set endpoints, credentials and guardrails", load: async () => [(await import('./trust.js')).registerTrustCommand] },
  { name: 'mcp', description: 'an MCP server on stdio for other agents (Claude Code, Codex, Cursor): the workstation tools, a session per client', load: async () => [(await import('./mcp.js')).registerMcpCommand] },
  { name: 'serve', description: 'run the Nexora server in the foreground: it owns the store, sessions, pool and runs; commands are its clients', load: async () => [(await import('./server.js')).registerServerCommand] },
  { name: 'server', description: 'manage the Nexora server (commands start it when needed)', load: async () => [(await import('./server.js')).registerServerCommand] },
  {
    name: 'completion',
    description: 'print a shell completion script (bash, zsh or fish)',
    // Completion is generated from the commands themselves: it needs every one of them.
    load: async () => [...(await Promise.all(commands.filter((entry) => entry.name !== 'completion').map((entry) => entry.load()))).flat(), (await import('./completion.js')).registerCompletionCommand],
  },
];
