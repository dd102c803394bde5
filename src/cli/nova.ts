import { createPubSub, createServices } from '../app.ts';
import { systemClock } from '../clock.ts';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { AppError } from '../http/errors.ts';
import { type CommandReply, runOperatorCommand, sendToRunningServer } from './control-socket.ts';
import { operatorCommands } from './operator-commands.ts';

// Operator CLI: `npm run nova -- <command> [options] [--json]`.
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const [name, ...typedArgs] = argv.filter((arg) => arg !== '--json');

function help(): string {
  return ['usage: npm run nova -- <command> [options] [--json]', '', ...operatorCommands.map((c) => `  ${c.usage}\n      ${c.summary}`)].join('\n');
}

function print(reply: CommandReply): number {
  if (!reply.ok || !reply.output) {
    const error = reply.error ?? { code: 'internal', message: 'No answer' };
    if (json) console.log(JSON.stringify({ ok: false, error }));
    else console.error(`error (${error.code}): ${error.message}`);
    return 2;
  }
  console.log(json ? JSON.stringify(reply.output.json) : reply.output.text);
  return reply.output.exitCode ?? 0;
}

async function main(): Promise<number> {
  if (!name || name === 'help' || name === '--help') {
    console.log(help());
    return name ? 0 : 2;
  }
  let args = typedArgs;
  const prepare = operatorCommands.find((c) => c.name === name)?.prepareArgs;
  if (prepare) {
    try {
      args = await prepare(typedArgs);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return print({ ok: false, error: { code: error.code, message: error.message } });
    }
  }
  const config = loadConfig();
  if (!config.databaseUrl) {
    // The embedded database belongs to the running server, if there is one: ask it.
    const reply = await sendToRunningServer(config.dataDir, name, args);
    if (reply) return print(reply);
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  // With Redis, what the command changes reaches every running server's caches at once (see
  // README → Operations → Caches); without it, their caches notice within their safety-net age.
  const pubsub = createPubSub(config);
  try {
    return print(await runOperatorCommand(createServices({ config, database, clock: systemClock, pubsub }), name, args));
  } finally {
    await pubsub.close();
    await database.close();
  }
}

process.exitCode = await main();
