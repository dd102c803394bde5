import { existsSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Services } from '../app.ts';
import { AppError } from '../http/errors.ts';
import type { CommandOutput } from './command.ts';
import { operatorCommands } from './operator-commands.ts';

/**
 * PGlite is one process's database, so while the server runs on it, the operator CLI hands its
 * command to the server over a Unix socket in the data folder (reachable only by users who can
 * write there) and the server runs it on its own services.
 */
export function controlSocketPath(dataDir: string): string {
  return path.resolve(dataDir, 'nova-cli.sock');
}

export interface CommandReply {
  ok: boolean;
  output?: CommandOutput;
  error?: { code: string; message: string };
}

export async function runOperatorCommand(services: Services, name: string, args: string[]): Promise<CommandReply> {
  const command = operatorCommands.find((c) => c.name === name);
  if (!command) return { ok: false, error: { code: 'invalid_request', message: `Unknown command "${name}"` } };
  try {
    return { ok: true, output: await command.run(services, args) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error: { code: error.code, message: error.message } };
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { ok: false, error: { code: 'invalid_request', message: `${error.message}\nusage: ${command.usage}` } };
    }
    throw error;
  }
}

export async function startControlSocket(services: Services, dataDir: string): Promise<() => Promise<void>> {
  const socketPath = controlSocketPath(dataDir);
  // A socket file left by a killed server would make listen() fail with EADDRINUSE.
  if (existsSync(socketPath)) unlinkSync(socketPath);
  const server = http.createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    let reply: CommandReply;
    try {
      const { command, args } = JSON.parse(body) as { command: string; args: string[] };
      reply = await runOperatorCommand(services, command, args);
    } catch (error) {
      reply = { ok: false, error: { code: 'internal', message: (error as Error).message } };
    }
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

/** Sends a command to a running server; null when no server listens on the data folder's socket. */
export async function sendToRunningServer(dataDir: string, command: string, args: string[]): Promise<CommandReply | null> {
  const socketPath = controlSocketPath(dataDir);
  if (!existsSync(socketPath)) return null;
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: '/', method: 'POST' }, async (response) => {
      let body = '';
      for await (const chunk of response) body += chunk;
      resolve(JSON.parse(body) as CommandReply);
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      // A stale socket file (server gone): the CLI opens the database itself.
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(null);
      else reject(error);
    });
    request.end(JSON.stringify({ command, args }));
  });
}
