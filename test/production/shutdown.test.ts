import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ensureServerBuilt, serverEntry } from '../../scripts/build-server.ts';
import { apiClient } from '../support/test-server.ts';
import { createScratchDatabase, testRedisUrl, testTarget } from '../support/test-target.ts';
import { webClient } from '../web/web-client.ts';

/**
 * Graceful shutdown of the built server (`npm start` runs dist/main.js): on SIGTERM it stops
 * taking connections, answers open long-polls at once with the current state, ends event
 * streams, finishes requests in flight and exits 0, within the 10 s an orchestrator allows.
 */
const root = path.resolve(import.meta.dirname, '../..');
const running = new Set<ChildProcessWithoutNullStreams>();
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  await ensureServerBuilt({ quiet: true });
});

after(async () => {
  for (const child of running) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup();
});

interface Started {
  url: string;
  port: number;
  apiKey: string;
  email: string;
  password: string;
  output(): string;
  /** Resolves with the exit code and how long after `since` (ms) the process exited. */
  exited: Promise<{ code: number | null; at: number }>;
  kill(signal: NodeJS.Signals): void;
}

async function startBuiltServer(): Promise<Started> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-shutdown-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', NOVA_DATA_DIR: dataDir, NOVA_DEMO: '1', LOG_LEVEL: 'warn' };
  // No demo SMS during the test: the long-poll must be answered by the shutdown, not by a code.
  env.NOVA_DEMO_SMS_DELAY_S = '3600';
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'NODE_TEST_CONTEXT']) delete env[name];
  if (testTarget === 'postgres') {
    const scratch = await createScratchDatabase();
    cleanups.push(() => scratch.drop());
    env.DATABASE_URL = scratch.url;
    if (testRedisUrl) env.REDIS_URL = testRedisUrl;
  }
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  const child = spawn(process.execPath, [serverEntry], { cwd: root, env });
  running.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, at: Date.now() });
    }),
  );
  const deadline = Date.now() + 90_000;
  for (;;) {
    const url = /Nova SMS is running at (http:\/\/\S+)/.exec(output)?.[1];
    const apiKey = /API key:\s+(\S+)/.exec(output)?.[1];
    const email = /owner email:\s+(\S+)/.exec(output)?.[1];
    const password = /password:\s+(\S+)/.exec(output)?.[1];
    if (url && apiKey && email && password) {
      return { url, port: Number(new URL(url).port), apiKey, email, password, output: () => output, exited, kill: (signal) => child.kill(signal) };
    }
    if (child.exitCode !== null) assert.fail(`the server exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) assert.fail(`the server was not ready within 90 s:\n${output}`);
    await sleep(50);
  }
}

/** A raw HTTP/1.1 connection: the test decides when each byte of the request goes out. */
function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  return { socket, received: () => received, closed };
}

/** Reads a server-sent event stream until the server ends it. */
async function openStream(url: string, cookie: string): Promise<{ status: number; ended: Promise<number> }> {
  const response = await fetch(url, { headers: { cookie } });
  const ended = (async () => {
    try {
      for await (const _ of response.body!) {
        // Heartbeats and events: only the end matters here.
      }
    } catch {
      // Cut rather than ended: still over.
    }
    return Date.now();
  })();
  return { status: response.status, ended };
}

describe('graceful shutdown of the built server', { timeout: 240_000 }, () => {
  it('on SIGTERM answers an open long-poll at once, ends live streams, finishes a request in flight and exits 0', async () => {
    const server = await startBuiltServer();
    const api = apiClient(server.url, server.apiKey);
    const bought = await api.post('/api/v1/activations', { service_code: 'tg', country_id: 6 });
    assert.equal(bought.status, 201, JSON.stringify(bought.body));
    const id = bought.body.data.activation.id;

    const web = webClient(server.url);
    await web.start();
    const signedIn = await web.post('/signin', { email: server.email, password: server.password });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const live = await openStream(`${server.url}/api/web/live`, [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    assert.equal(live.status, 200);

    const longPoll = api.get(`/api/v1/activations/${id}?wait=60`).then((response) => ({ response, at: Date.now() }));
    // A purchase whose body is still on its way when the signal comes.
    const upload = rawConnection(server.port);
    const body = JSON.stringify({ service_code: 'tg', country_id: 6 });
    upload.socket.write(
      `POST /api/v1/activations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.apiKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    // Let the long-poll reach its wait.
    await sleep(1000);

    const signalledAt = Date.now();
    server.kill('SIGTERM');
    await sleep(300);
    upload.socket.write(body.slice(10));

    const { response, at } = await longPoll;
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.data.activation.id, id);
    assert.equal(response.body.data.activation.status, 'waiting');
    assert.ok(at - signalledAt < 3000, `the long-poll was answered ${at - signalledAt} ms after SIGTERM`);

    const streamEnded = await live.ended;
    assert.ok(streamEnded - signalledAt < 3000, `the live stream ended ${streamEnded - signalledAt} ms after SIGTERM`);

    await upload.closed;
    assert.match(upload.received(), /^HTTP\/1\.1 201 /, `the purchase in flight is answered:\n${upload.received()}`);
    assert.match(upload.received(), /"status":"waiting"/);

    const exit = await server.exited;
    assert.equal(exit.code, 0, `exit code after SIGTERM\n${server.output()}`);
    // Well before the deadline: nothing had to be cut.
    assert.ok(exit.at - signalledAt < 5_000, `exited ${exit.at - signalledAt} ms after SIGTERM`);
    await assert.rejects(fetch(`${server.url}/healthz`), 'nothing listens any more');
  });

  it('does not wait for connections that carry no request: opened and silent, or idle after an answer', async () => {
    // Found in the test suite: an HTTP client's spare connection, opened but never used, held
    // server.close() until Node's header timeout (~70 s); here it held SIGTERM until the deadline.
    const server = await startBuiltServer();
    const silent = rawConnection(server.port);
    const idle = rawConnection(server.port);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    for (let waited = 0; !idle.received().includes('\r\n\r\n') && waited < 5000; waited += 20) await sleep(20);
    assert.match(idle.received(), /^HTTP\/1\.1 200 /, 'the idle connection was answered once and stays open (keep-alive)');
    await sleep(200);

    const signalledAt = Date.now();
    server.kill('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(15_000, null)]);
    assert.ok(exit, `still running 15 s after SIGTERM\n${server.output()}`);
    assert.equal(exit.code, 0, `exit code after SIGTERM\n${server.output()}`);
    assert.ok(exit.at - signalledAt < 3_000, `exited ${exit.at - signalledAt} ms after SIGTERM: it waited for a connection with no request`);
    await Promise.all([silent.closed, idle.closed]);
  });

  it('exits within 10 s of SIGTERM even while a client stalls in the middle of sending a request', async () => {
    const server = await startBuiltServer();
    const stalled = rawConnection(server.port);
    stalled.socket.write(
      `POST /api/v1/activations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${server.apiKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"service_code":',
    );
    await sleep(300);
    const signalledAt = Date.now();
    server.kill('SIGTERM');
    const exit = await Promise.race([server.exited, sleep(15_000, null)]);
    assert.ok(exit, `still running 15 s after SIGTERM\n${server.output()}`);
    assert.ok(exit.at - signalledAt < 10_500, `exited ${exit.at - signalledAt} ms after SIGTERM`);
    assert.equal(exit.code, 0, `exit code after SIGTERM\n${server.output()}`);
    await stalled.closed;
  });
});
