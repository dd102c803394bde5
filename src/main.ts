import { loadConfig } from './config.ts';
import { startServer } from './server.ts';

const config = loadConfig();
const server = await startServer(config);

const login = server.demoLogin;
console.log(`\nNova SMS is running at ${server.url}  (database: ${server.database.kind === 'pglite' ? `embedded, ${config.dataDir}` : 'PostgreSQL'})`);
if (login) {
  console.log(`Demo mode: demo catalog and demo supply (fictional numbers; an SMS arrives ${config.demoSmsDelaySeconds} s after purchase)`);
  console.log(`  owner email: ${login.email}\n  password:    ${login.password}\n  API key:     ${login.apiKey}`);
  console.log(`  try: curl -H "Authorization: Bearer ${login.apiKey}" ${server.url}/api/v1/balance\n`);
}

// An orchestrator (docker stop, Kubernetes) sends SIGTERM and kills ten seconds later.
const shutdownDeadlineMs = 10_000;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // npm forwards Ctrl-C to us while the terminal sends it too: one shutdown is enough.
    if (stopping) return;
    stopping = true;
    // A request that never completes (a client stalled mid-upload) must not hold the exit: its
    // connection is cut a little before the deadline, and at the deadline the process goes anyway.
    setTimeout(() => server.app.server.closeAllConnections(), shutdownDeadlineMs - 2_000).unref();
    setTimeout(() => {
      console.error(`Shutdown took longer than ${shutdownDeadlineMs / 1000} s; exiting without waiting further.`);
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
