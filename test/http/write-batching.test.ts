import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { batchWrites } from '../../src/http/write-batching.ts';
import { type RawAnswer, rawRequest } from '../support/raw-http.ts';
import { type TestServer, startTestServer } from '../support/test-server.ts';

/**
 * Answers written in one turn of the event loop are sent together at its end
 * (src/http/write-batching.ts). The mechanism on a bare HTTP server, then the real server under
 * many connections at once, large answers and clients that vanish before their answer is sent.
 */

/** Bytes a socket had handed to the kernel right after the handler (Node's nextTick) and at the end of the turn (setImmediate). */
async function whenSent(batched: boolean): Promise<{ afterHandler: number; atEndOfTurn: number; body: string }> {
  const server = http.createServer();
  if (batched) batchWrites(server);
  const observed = new Promise<{ afterHandler: number; atEndOfTurn: number }>((resolve) => {
    server.on('request', (_request, response: http.ServerResponse) => {
      const socket = response.socket!;
      response.end('answer');
      // Node sends a corked answer in a nextTick queued by end(); this one runs after it.
      process.nextTick(() => {
        const afterHandler = socket.bytesWritten;
        setImmediate(() => resolve({ afterHandler, atEndOfTurn: socket.bytesWritten }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/`);
    return { ...(await observed), body: await answer.text() };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** What a client reads until the connection closes, from a bare batched server that answers with `answer`. */
async function readUntilClose(answer: (response: http.ServerResponse) => void): Promise<RawAnswer> {
  const server = http.createServer((_request, response) => answer(response));
  batchWrites(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await rawRequest(`http://127.0.0.1:${port}`, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('write batching, the mechanism (bare HTTP server)', () => {
  it('holds an answer until the end of the turn that wrote it, then sends it', async () => {
    const batched = await whenSent(true);
    assert.equal(batched.afterHandler, 0, `the answer left before the end of the turn (${batched.afterHandler} bytes sent)`);
    assert.ok(batched.atEndOfTurn > 0, 'the answer was still unsent after the turn ended');
    assert.equal(batched.body, 'answer');
  });

  it('sends a held write before the socket closes when it is destroyed right after writing', async () => {
    // As Node (and our clientErrorHandler) answer a request the parser refuses: write, destroy.
    const answer = await readUntilClose((response) => {
      const socket = response.socket!;
      socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngone');
      socket.destroy();
    });
    assert.equal(answer.status, 400);
    assert.equal(answer.text, 'gone');
  });

  it('ends a connection (Connection: close) only after the answer held before the end', async () => {
    const answer = await readUntilClose((response) => {
      response.setHeader('connection', 'close');
      response.end('the whole answer');
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'the whole answer');
  });

  it('without it, Node sends each answer as soon as the handler’s turn ends (what batching changes)', async () => {
    const unbatched = await whenSent(false);
    assert.ok(unbatched.afterHandler > 0);
    assert.equal(unbatched.body, 'answer');
  });
});

describe('write batching on the real server', () => {
  let server: TestServer;
  let logDir: string;
  let key: string;

  before(async () => {
    logDir = mkdtempSync(path.join(os.tmpdir(), 'nova-write-batching-'));
    server = await startTestServer({ env: { LOG_LEVEL: 'warn', LOG_FILE: path.join(logDir, 'server.log'), NOVA_BATCH_WRITES: '1' } });
    key = (await server.createCompany('5')).apiKey;
  });

  after(async () => {
    await server?.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('answers 400 requests on 40 connections at once, each with its own complete answer', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
    try {
      const get = (pathname: string) =>
        new Promise<{ status: number; body: string; length: number }>((resolve, reject) => {
          http
            .get(`${server.url}${pathname}`, { agent, headers: { authorization: `Bearer ${key}` } }, (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString(), length: Number(response.headers['content-length']) }));
            })
            .on('error', reject);
        });
      // Reads of several sizes interleaved, the OpenAPI document (over 64 KB, sent in several writes) among them.
      const paths = ['/api/v1/balance', '/api/v1/services', '/api/v1/openapi.json', '/api/v1/countries'];
      const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => get(paths[i % paths.length]).then((answer) => ({ pathname: paths[i % paths.length], ...answer }))));
      const first = new Map<string, string>();
      for (const { pathname, status, body, length } of answers) {
        assert.equal(status, 200, `${pathname}: ${status} ${body.slice(0, 200)}`);
        assert.equal(Buffer.byteLength(body), length, `${pathname}: the body is not as long as its Content-Length`);
        const json = JSON.parse(body) as { ok?: boolean; openapi?: string };
        assert.ok(json.ok === true || json.openapi !== undefined, `${pathname}: ${body.slice(0, 200)}`);
        // The same read, the same answer: no answer carries another's bytes.
        if (!first.has(pathname)) first.set(pathname, body);
        assert.equal(body, first.get(pathname), `${pathname} answered differently on another connection`);
      }
      assert.ok(Buffer.byteLength(first.get('/api/v1/openapi.json')!) > 65_536, 'the OpenAPI document is no longer a large answer; pick another');
    } finally {
      agent.destroy();
    }
  });

  it('keeps serving, without an error, when clients go away before their answer is sent', async () => {
    const request = `GET /api/v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/v1/balance HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n\r\n`;
    const { port } = new URL(server.url);
    const vanish = () =>
      new Promise<void>((resolve) => {
        const socket: Socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(request);
          // Gone while the server reads or answers: its answer is written to a closed socket.
          setImmediate(() => socket.destroy());
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve());
      });
    await Promise.all(Array.from({ length: 100 }, vanish));
    const balance = await server.api(key).get('/api/v1/balance');
    assert.equal(balance.status, 200);
    assert.equal(balance.body.data.balance, 5);
    const errors = readFileSync(path.join(logDir, 'server.log'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{') && (JSON.parse(line) as { level: number }).level >= 50);
    assert.deepEqual(errors, [], 'the server logged errors');
  });
});
