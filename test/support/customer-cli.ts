import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../packages/client/src/cli.ts';

/**
 * The customer CLI (`nova-sms`, packages/client/src/cli.ts) as a customer runs it: a process of its
 * own with only NOVA_API_KEY and NOVA_API_URL, or, cheaper, its `main` in this process with the
 * same arguments and environment (a spawn costs seconds: spawn for what only a real process shows).
 */
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'packages/client/src/cli.ts');

export interface CustomerCliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `nova-sms …` as a separate process. */
export function spawnNovaSms(args: string[], env: Record<string, string>): Promise<CustomerCliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `nova-sms …` through the CLI's `main` in this process: exit code and both outputs. */
export async function runNovaSms(args: string[], env: Record<string, string>): Promise<CustomerCliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (write: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await main(args, env, { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)) });
  return { code, stdout, stderr };
}
