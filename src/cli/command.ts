import type { Services } from '../app.ts';

/** What a command prints: `json` with --json, `text` otherwise. */
export interface CommandOutput {
  json: unknown;
  text: string;
  /** Non-zero when the command found a problem (e.g. ledger:verify). */
  exitCode?: number;
}

export interface OperatorCommand {
  name: string;
  usage: string;
  summary: string;
  run(services: Services, args: string[]): Promise<CommandOutput>;
  /**
   * Runs in the operator's CLI process before the command is run (perhaps by a running server
   * over its socket): e.g. reads a file named relative to the operator's directory.
   */
  prepareArgs?(args: string[]): Promise<string[]>;
}
