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
}
