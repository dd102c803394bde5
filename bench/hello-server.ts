import Fastify from 'fastify';

/**
 * The benchmark's baseline: a bare Fastify hello-world on loopback, in a process of its own
 * like the Nova server, so both are measured under the same load generator on the same machine.
 * Prints its URL on one line (`listening at URL`) once it accepts connections.
 */
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`hello-world listening at ${address}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
