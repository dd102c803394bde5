import { randomInt } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchOperator, longPollService } from './bench-fixture.ts';
import { cpuMsPer, latencyStats, machineCpuTicks, type Measurement, percentile, round } from './load-runner.ts';
import { cpuTicks, residentMb, type ServerProcess } from './server-process.ts';

/**
 * Many clients waiting for their code at once: `count` activations bought on the bench provider's
 * numbers, one `GET /activations/{id}?wait=60` held open on each (plain node http, a socket each),
 * then an SMS pushed to every number through `POST /api/v1/supply/sms` as the provider would. For
 * each, the time from the push's answer to the long-poll's answer; and the server's memory while
 * all of them wait.
 */

/** SMS pushed at once, as a few gateways posting together would. */
const pushConcurrency = 10;
/** Purchases at once while setting up (not measured). */
const buyConcurrency = 10;

interface Answer {
  status: number;
  body: string;
  /** performance.now() when the whole answer had arrived. */
  at: number;
}

function send(agent: http.Agent, url: URL, options: { method: string; path: string; token: string; body?: unknown }, onSent?: () => void): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers: { authorization: `Bearer ${options.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, at: performance.now() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (onSent) request.on('finish', onSent);
    request.end(payload);
  });
}

/** Runs `work` for every item, `concurrency` at a time. */
async function eachLimited<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

interface Waiter {
  id: number;
  number: string;
  code: string;
  pushAnsweredAt?: number;
  answeredAt?: number;
  /** What was wrong with its answers, if anything. */
  problem?: string;
}

export async function measureLongPolls(input: {
  target: string;
  server: ServerProcess;
  apiKey: string;
  providerSecret: string;
  count: number;
  /** The server's RSS right after it started, for the report. */
  rssAfterStart: number | null;
}): Promise<Measurement> {
  const { target, server, apiKey, providerSecret, count } = input;
  const scenario = `${count} long-polls GET /activations/{id}?wait=60, SMS → answer`;
  process.stdout.write(`  ${target} / ${scenario}: buying ${count} activations, `);
  const url = new URL(server.url);
  const pid = server.child.pid;
  const errorsBefore = server.errors.length;
  const problemsBefore = server.problems.length;
  const setupAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(buyConcurrency, pushConcurrency) });
  const pollAgent = new http.Agent({ keepAlive: true, maxSockets: count + 10 });
  const broken: string[] = [];
  try {
    // Activations on the bench provider's numbers only (its operator), so it can push to every one.
    const waiters: Waiter[] = new Array(count);
    await eachLimited([...Array(count).keys()], buyConcurrency, async (i) => {
      const answer = await send(setupAgent, url, {
        method: 'POST',
        path: '/api/v1/activations',
        token: apiKey,
        body: { service_code: longPollService.code, country_id: longPollService.countryId, operator: benchOperator },
      });
      if (answer.status !== 201) throw new Error(`Buying long-poll activation ${i + 1} failed: ${answer.status} ${answer.body.slice(0, 300)}`);
      const { id, number } = (JSON.parse(answer.body) as { data: { activation: { id: number; number: string } } }).data.activation;
      waiters[i] = { id, number, code: String(randomInt(100_000, 1_000_000)) };
    });

    const rssBefore = residentMb(pid);
    process.stdout.write('opening the long-polls, ');
    const openStarted = performance.now();
    let sent = 0;
    let askedAgain = 0;
    let askedAgainAfterPush = 0;
    // Each waits until its code comes. An answer without it before the SMS (a timeout, or a change
    // message meant for another server on the same Redis) is asked again, as a client would.
    const polls = waiters.map(async (waiter) => {
      let first = true;
      let askedAfterPush = false;
      for (;;) {
        const answer = await send(pollAgent, url, { method: 'GET', path: `/api/v1/activations/${waiter.id}?wait=60`, token: apiKey }, () => {
          if (first) sent += 1;
          first = false;
        });
        if (answer.status !== 200) {
          waiter.problem = `long-poll answered ${answer.status}: ${answer.body.slice(0, 300)}`;
          return;
        }
        const activation = (JSON.parse(answer.body) as { data: { activation: { code: string | null; status: string } } }).data.activation;
        if (activation.code === waiter.code) {
          waiter.answeredAt = answer.at;
          return;
        }
        if (activation.code !== null || (activation.status !== 'waiting' && activation.status !== 'sms_received')) {
          waiter.problem = `long-poll answered code ${activation.code}, status ${activation.status}; the SMS carried ${waiter.code}`;
          return;
        }
        if (waiter.pushAnsweredAt !== undefined && answer.at > waiter.pushAnsweredAt) {
          // The SMS is stored: a read that began before it was may still miss it, once; asked again
          // now, the answer must carry the code at once (a stale read otherwise).
          if (askedAfterPush) {
            waiter.problem = `no code ${Math.round(answer.at - waiter.pushAnsweredAt)} ms after the SMS push was answered`;
            return;
          }
          askedAfterPush = true;
          askedAgainAfterPush += 1;
        } else askedAgain += 1;
      }
    }).map((poll, i) =>
      poll.catch((error: Error) => {
        waiters[i].problem = `long-poll failed: ${error.message}`;
      }),
    );

    // Every request sent and the server idle (its CPU time no longer moving): all of them wait now.
    const deadline = performance.now() + 30_000;
    while (sent < count && performance.now() < deadline) await sleep(20);
    let ticks = cpuTicks(pid);
    let quietSamples = 0;
    while (quietSamples < 3 && performance.now() < deadline) {
      await sleep(100);
      const now = cpuTicks(pid);
      quietSamples = now !== null && ticks !== null && now - ticks <= 2 ? quietSamples + 1 : 0;
      ticks = now;
    }
    const openSeconds = round((performance.now() - openStarted) / 1000, 2);
    const rssWaiting = residentMb(pid);

    process.stdout.write(`pushing ${count} SMS ... `);
    let rssPeak = rssWaiting;
    const sampler = setInterval(() => {
      const rss = residentMb(pid);
      if (rss !== null && (rssPeak === null || rss > rssPeak)) rssPeak = rss;
    }, 50);
    const pushStarted = performance.now();
    // The CPU an SMS costs, from its push to its long-poll's answer (both measured together).
    const ticksAtPush = machineCpuTicks(pid);
    try {
      await eachLimited(waiters, pushConcurrency, async (waiter) => {
        const answer = await send(setupAgent, url, {
          method: 'POST',
          path: '/api/v1/supply/sms',
          token: providerSecret,
          body: { to: waiter.number, from: 'Bench', text: `Your bench code is ${waiter.code}` },
        });
        waiter.pushAnsweredAt = answer.at;
        if (answer.status !== 200) {
          waiter.problem ??= `SMS push answered ${answer.status}: ${answer.body.slice(0, 300)}`;
          return;
        }
        const data = (JSON.parse(answer.body) as { data: { activation_id: number | null; code: string | null } }).data;
        if (data.activation_id !== waiter.id || data.code !== waiter.code) {
          waiter.problem ??= `SMS push matched activation ${data.activation_id} with code ${data.code}; expected ${waiter.id} with ${waiter.code}`;
        }
      });
      const pushSeconds = round((performance.now() - pushStarted) / 1000, 2);
      // A long-poll holds at most 60 s; one still open well after that will never answer.
      const allAnswered = await Promise.race([Promise.all(polls).then(() => true), sleep(75_000, false)]);
      const ticksAnswered = machineCpuTicks(pid);
      if (!allAnswered) broken.push(`${waiters.filter((w) => w.answeredAt === undefined && !w.problem).length} long-polls never answered`);

      const problems = waiters.filter((w) => w.problem !== undefined);
      if (problems.length > 0) broken.push(`${problems.length} wrong answers, e.g. activation ${problems[0].id}: ${problems[0].problem}`);
      const delays = waiters
        .filter((w) => w.answeredAt !== undefined && w.pushAnsweredAt !== undefined)
        .map((w) => Math.max(0, w.answeredAt! - w.pushAnsweredAt!));
      const sorted = [...delays].sort((a, b) => a - b);
      const answeredBeforePush = waiters.filter((w) => w.answeredAt !== undefined && w.pushAnsweredAt !== undefined && w.answeredAt < w.pushAnsweredAt).length;
      const figures = {
        count,
        smsToAnswerMs: { median: round(percentile(sorted, 0.5), 2), p99: round(percentile(sorted, 0.99), 2), max: round(sorted.at(-1) ?? NaN, 2) },
        answeredBeforePush,
        askedAgain: askedAgain + askedAgainAfterPush,
        rssMb: { afterStart: input.rssAfterStart, before: rssBefore, waiting: rssWaiting, peak: rssPeak },
        openSeconds,
        pushSeconds,
      };
      const serverErrors = server.errors.slice(errorsBefore);
      if (serverErrors.length > 0) broken.push(`server logged ${serverErrors.length} error lines, first: ${serverErrors[0].slice(0, 400)}`);
      const stats = latencyStats(delays);
      const measurement: Measurement = {
        scenario,
        target,
        requestsPerSecond: round(count / Math.max(0.001, pushSeconds), 0),
        p99Ms: figures.smsToAnswerMs.p99,
        meanMs: stats.meanMs,
        requests: count,
        non2xx: 0,
        statusCodes: {},
        errors: 0,
        timeouts: 0,
        durationSeconds: pushSeconds,
        serverProblems: server.problems.slice(problemsBefore),
        notes: [],
        loadAverage1m: round(os.loadavg()[0], 2),
        wrongAnswers: problems.length,
        wrongSamples: problems.slice(0, 5).map((w) => `activation ${w.id}: ${w.problem}`),
        longPoll: figures,
        broken,
      };
      if (ticksAtPush && ticksAnswered) measurement.cpuMsPer = cpuMsPer(ticksAtPush, ticksAnswered, count, 'SMS');
      if (askedAgain > 0) measurement.notes.push(`${askedAgain} long-polls answered without a code before their SMS and were asked again`);
      if (askedAgainAfterPush > 0) measurement.notes.push(`${askedAgainAfterPush} answered without the code after their SMS push was answered and were asked again`);
      console.log(
        `SMS → answer median ${figures.smsToAnswerMs.median} ms, p99 ${figures.smsToAnswerMs.p99} ms, max ${figures.smsToAnswerMs.max} ms; ` +
          `RSS ${rssBefore} MB before, ${rssWaiting} MB waiting, ${rssPeak} MB peak`,
      );
      return measurement;
    } finally {
      clearInterval(sampler);
    }
  } finally {
    setupAgent.destroy();
    pollAgent.destroy();
  }
}
