import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ensureServerBuilt } from '../../scripts/build-server.ts';
import { loadConfig } from '../../src/config.ts';

/**
 * No Docker engine runs in CI, so the deployment files are checked by reading them: the
 * Dockerfile and compose.yaml keep the promises the README's "Deploy" section makes.
 */
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile as stages of instructions (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      assert.ok(match, `FROM ${instruction.args}`);
      stages.push({ from: match[1]!, name: match[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${instruction.keyword} before any FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` with the values an operator puts in .env. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (env[name]) return env[name]!;
    assert.notEqual(kind, '?', `compose.yaml requires ${name}: ${rest}`);
    return kind === '-' ? (rest ?? '') : '';
  });
}

const operatorEnv = { POSTGRES_PASSWORD: 'pw4nova', NOVA_SECRET: 'a'.repeat(64) };

// compose.yaml is untyped YAML: the test asserts the shape it relies on.
type ComposeService = {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test: string | string[] };
};

describe('deployment files', () => {
  before(async () => {
    await ensureServerBuilt({ quiet: true });
  });

  describe('Dockerfile', () => {
    const stages = parseDockerfile(read('Dockerfile'));
    const runtime = stages.at(-1)!;
    const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1);

    it('builds in one stage with the dev dependencies and runs from another on Node 20 Debian slim', () => {
      assert.ok(stages.length >= 2, 'multi-stage');
      for (const stage of stages) assert.match(stage.from, /^node:20(\.\d+)*-(bookworm|bullseye|trixie)-slim$/, stage.from);
      const build = stages.find((stage) => stage.name && runtime.instructions.some((i) => i.keyword === 'COPY' && i.args.includes(`--from=${stage.name}`)));
      assert.ok(build, 'the runtime stage copies from a named build stage');
      const buildRuns = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
      assert.ok(buildRuns.some((run) => /npm ci(?!.*--omit=dev)/.test(run)), 'the build stage installs every dependency');
      assert.ok(buildRuns.some((run) => run.includes('npm run build')), 'the build stage runs npm run build');
      const runtimeRuns = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
      assert.ok(runtimeRuns.some((run) => /npm ci .*--omit=dev/.test(run)), 'the runtime stage installs production dependencies only');
      const copied = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from=')).map((i) => i.args);
      assert.ok(copied.some((args) => /\/dist\s/.test(args) && !args.includes('web/dist')), 'copies the server build');
      assert.ok(copied.some((args) => args.includes('web/dist')), 'copies the website build');
    });

    it('runs as a user other than root', () => {
      const user = last('USER');
      assert.ok(user, 'USER in the runtime stage');
      assert.doesNotMatch(user.args, /^(root|0)(:|$)/);
      const userAt = runtime.instructions.indexOf(user);
      assert.ok(
        runtime.instructions.slice(userAt + 1).every((i) => i.keyword !== 'USER'),
        'no later USER switches back',
      );
    });

    it('has a HEALTHCHECK on /healthz or /readyz', () => {
      const healthcheck = last('HEALTHCHECK');
      assert.ok(healthcheck, 'HEALTHCHECK in the runtime stage');
      assert.match(healthcheck.args, /\/(healthz|readyz)/);
      assert.match(healthcheck.args, /--interval=\d+s/);
    });

    it('starts a file that `npm run build` produces', () => {
      const cmd = last('CMD');
      assert.ok(cmd, 'CMD in the runtime stage');
      const argv = JSON.parse(cmd.args) as string[];
      assert.equal(argv[0], 'node', 'exec form starting node (so SIGTERM reaches the server)');
      const script = argv.find((arg) => arg.endsWith('.js'));
      assert.ok(script, `a .js entry in ${cmd.args}`);
      const workdir = last('WORKDIR')?.args ?? '/';
      const copiedFrom = runtime.instructions
        .filter((i) => i.keyword === 'COPY' && i.args.includes('--from='))
        .map((i) => i.args.split(/\s+/).slice(1));
      // dist/main.js under WORKDIR /app comes from /app/dist of the build stage, i.e. <repo>/dist.
      const inImage = path.posix.join(workdir, script);
      const source = copiedFrom.find(([, target]) => inImage.startsWith(`${path.posix.join(workdir, target!)}/`));
      assert.ok(source, `${inImage} is copied from the build stage`);
      assert.ok(existsSync(path.join(root, script)), `${script} exists after npm run build`);
    });

    it('keeps local installs, builds and data out of the build context', () => {
      const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
      for (const entry of ['node_modules', 'dist', 'web/dist', 'data', '.git']) assert.ok(ignored.includes(entry), entry);
    });
  });

  describe('compose.yaml', () => {
    const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
    const services = compose.services;
    const apps = Object.entries(services).filter(([, service]) => service.build !== undefined);
    const envOf = (service: ComposeService) =>
      Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value), operatorEnv)]));
    const hostOf = (url: string) => new URL(url).hostname;
    const serviceWithImage = (prefix: string) => Object.entries(services).find(([, service]) => service.image?.startsWith(prefix));

    it('runs two app instances on one database, one Redis and one secret, behind a trusted proxy', () => {
      assert.equal(apps.length, 2, 'two app services built from the Dockerfile');
      const [first, second] = apps.map(([, service]) => envOf(service));
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'NOVA_SECRET', 'NOVA_PUBLIC_URL']) {
        assert.ok(first![name], `${name} is set`);
        assert.equal(first![name], second![name], `${name} is the same on both instances`);
      }
      const config = loadConfig(first);
      assert.equal(config.trustProxy, true, 'NOVA_TRUST_PROXY=1: client addresses and https come from the proxy');
      assert.equal(config.demo, false);
      assert.match(config.publicUrl ?? '', /^https:\/\//);
      assert.equal(hostOf(first!.DATABASE_URL!), serviceWithImage('postgres:')?.[0]);
      assert.equal(hostOf(first!.REDIS_URL!), serviceWithImage('redis:')?.[0]);
      for (const [name, service] of apps) {
        assert.equal(service.ports, undefined, `${name} is reached through the proxy only`);
        assert.equal(service.depends_on?.postgres?.condition, 'service_healthy', `${name} waits for PostgreSQL`);
      }
    });

    it('puts a reverse proxy with a checked-in config in front of both instances', () => {
      const proxy = Object.entries(services).find(([, service]) => (service.ports ?? []).length > 0);
      assert.ok(proxy, 'a service publishes ports');
      const [, service] = proxy;
      assert.deepEqual(Object.keys(service.depends_on ?? {}).sort(), apps.map(([name]) => name).sort());
      const mount = (service.volumes ?? []).map((volume) => volume.split(':')).find(([source]) => source!.startsWith('./'));
      assert.ok(mount, 'the proxy config is mounted from the repository');
      const config = read(mount[0]!);
      for (const [name] of apps) assert.ok(config.includes(`${name}:3000`), `the proxy sends traffic to ${name}`);
      assert.match(config, /\/readyz/, 'routes by readiness');
    });

    it('runs PostgreSQL 15 and Redis with volumes and healthchecks', () => {
      const [, postgres] = serviceWithImage('postgres:')!;
      assert.match(postgres.image!, /^postgres:15/);
      const dataVolume = (postgres.volumes ?? []).find((volume) => volume.endsWith(':/var/lib/postgresql/data'));
      assert.ok(dataVolume, 'PostgreSQL data on a volume');
      assert.ok(Object.hasOwn(compose.volumes ?? {}, dataVolume.split(':')[0]!), 'a named volume, declared');
      assert.ok(postgres.healthcheck, 'PostgreSQL healthcheck');
      const [, redis] = serviceWithImage('redis:')!;
      assert.ok((redis.volumes ?? []).some((volume) => volume.endsWith(':/data')), 'Redis data on a volume');
      assert.ok(redis.healthcheck, 'Redis healthcheck');
    });
  });
});
