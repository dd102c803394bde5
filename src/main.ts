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

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
