import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Services } from '../../src/app.ts';
import { runOperatorCommand } from '../../src/cli/control-socket.ts';
import { operatorCommands } from '../../src/cli/operator-commands.ts';
import { AppError } from '../../src/http/errors.ts';

/**
 * The operator CLI as an operator runs it (`npm run nova -- …` is `tsx src/cli/nova.ts …`), as a
 * child process with only the environment a test gives it.
 */
const root = path.resolve(import.meta.dirname, '../..');
const cliTimeoutMs = 60_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NOVA_DEMO: '0', LOG_LEVEL: 'silent', ...env };
  // Never the runner's database, Redis or test context.
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  delete childEnv.REDIS_URL;
  delete childEnv.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/nova.ts', ...args], { cwd: root, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), cliTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `--json` output: exactly one JSON object on one line. */
// The CLI's output is untyped JSON; tests assert on its fields.
export function jsonOf(result: CliResult): any {
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line of JSON, got:\n${result.stdout}\nstderr:\n${result.stderr}`);
  const value = JSON.parse(lines[0]!);
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value));
  return value;
}

/** Runs a command with --json that must succeed; its JSON. */
export async function cliJson(args: string[], env: Record<string, string>): Promise<any> {
  const result = await runCli([...args, '--json'], env);
  assert.equal(result.code, 0, `${args[0]}: exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return jsonOf(result);
}

/** Runs a command with --json that must be refused with `code`; its error message. */
export async function cliRefused(args: string[], env: Record<string, string>, code: string): Promise<string> {
  const result = await runCli([...args, '--json'], env);
  assert.notEqual(result.code, 0, `expected ${args[0]} to fail, got ${result.stdout}`);
  assert.doesNotMatch(result.stdout + result.stderr, /^\s+at .+[:(]/m, 'no stack trace');
  const reply = jsonOf(result);
  assert.equal(reply.ok, false);
  assert.equal(reply.error.code, code, reply.error.message);
  return reply.error.message as string;
}

/**
 * The same commands in this process, through the code the CLI runs (its argument preparation and
 * `runOperatorCommand`, which also serves the server's socket), without a child process each: a
 * spawn costs seconds, so a test spawns for what only the real process shows (printing, exit
 * codes, the socket) and runs the rest here.
 */
export function inProcessCli(services: Services) {
  async function reply(args: string[]) {
    const [name, ...rest] = args;
    let prepared = rest;
    const prepare = operatorCommands.find((c) => c.name === name)?.prepareArgs;
    if (prepare) {
      try {
        prepared = await prepare(rest);
      } catch (error) {
        if (error instanceof AppError) return { ok: false as const, error: { code: error.code, message: error.message } };
        throw error;
      }
    }
    return runOperatorCommand(services, name!, prepared);
  }
  return {
    /** A command that must succeed; its `--json` output. */
    async json(args: string[]): Promise<any> {
      const answer = await reply(args);
      assert.ok(answer.ok && answer.output, `${args[0]} failed: ${JSON.stringify(answer.error)}`);
      return answer.output.json;
    },
    /** A command that must be refused with `code`; its message. */
    async refused(args: string[], code: string): Promise<string> {
      const answer = await reply(args);
      assert.equal(answer.ok, false, `expected ${args[0]} to fail`);
      assert.equal(answer.error?.code, code, answer.error?.message);
      return answer.error!.message;
    },
  };
}
