// The production stack (docker-compose.yml, Dockerfile, .dockerignore) checked without a Docker
// engine: the compose file is parsed with a YAML parser, its `${VAR:-default}`s resolved the way
// Compose does with nothing set, and the Retrain services' environment is run through the real
// loadConfig and their commands through the real CLI argument parser. Compose's own loader
// (compose-go, run from test/helpers/compose-config with the Go toolchain) validates the file as
// `docker compose config` does, and must resolve it the way these checks do.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../services/config';
import { HAND_BACK_SECONDS } from '../workers/worker';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

const RETRAIN_SERVICES = ['retrain-worker', 'retrain-training', 'retrain-schedules', 'api', 'retrain-cli'];
const ONE_SHOT_SERVICES = ['temporal-schema', 'temporal-namespace', 'minio-init', 'retrain-schedules'];

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  container_name?: string;
  stop_grace_period?: string;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, unknown>;
  [extension: `x-${string}`]: unknown;
}

/**
 * Compose's interpolation with an empty environment: `${VAR:-default}` and `${VAR-default}` give
 * the default, `$$` a literal `$`. A variable without a default is recorded in `missing`, since
 * the stack must come up without an .env file.
 */
function interpolate<T>(value: T, missing: string[]): T {
  if (typeof value === 'string') {
    return value.replace(/\$(\$|\{([^}]*)\}|[A-Za-z_][A-Za-z0-9_]*)/g, (whole, body: string, braced?: string) => {
      if (body === '$') return '$';
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::?-(.*))?$/s.exec(braced ?? body);
      if (!match) throw new Error(`cannot interpolate ${whole}`);
      if (match[2] === undefined) missing.push(match[1]);
      return match[2] ?? '';
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, missing)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, missing)])) as T;
  }
  return value;
}

const raw = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const missingDefaults: string[] = [];
const compose = interpolate(raw, missingDefaults);
const services = compose.services;

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function commandOf(service: Service): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
}

/** A script run with `sh -c`, as one string. */
function scriptOf(service: Service): string {
  return commandOf(service).join('\n');
}

interface Published {
  hostIp?: string;
  published?: string;
  target: number;
}

/** Short (`[ip:][host:]container[/proto]`) and long port syntax. */
function portsOf(service: Service): Published[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return { hostIp: port.host_ip, published: port.published?.toString(), target: Number(port.target) };
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.pop() || undefined;
    return { hostIp: parts.pop(), published, target };
  });
}

function dependsOn(service: Service): Record<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']));
}

/** Compose durations: "75s", "6m", "1m30s", "1h". */
function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration ${duration}`).toBe(duration);
  const unit = { h: 3600, m: 60, s: 1, ms: 0.001 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

// --- the Dockerfile -----------------------------------------------------------------------------

/** Instructions with their continuation lines joined and comments dropped. */
const instructions = read('Dockerfile')
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const dockerfile = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** ENV KEY=VALUE (one or more) and ENV KEY VALUE. */
const imageEnv: Record<string, string> = Object.fromEntries(
  dockerfile('ENV').flatMap((args) =>
    args.includes('=')
      ? [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')])
      : [args.split(/\s+/, 2)],
  ),
);

const dockerignore = read('.dockerignore')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

/** Whether .dockerignore keeps a repository path out of the build context (the forms used here). */
function ignored(path: string): boolean {
  return dockerignore.some((pattern) => {
    const p = pattern.replace(/^\/|\/$/g, '');
    if (p.startsWith('**/'))
      return path.split('/').some((part) => new RegExp(`^${p.slice(3).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(part));
    return path === p || path.startsWith(`${p}/`);
  });
}

/** The Retrain configuration a service runs with: the image's ENV, then the service's environment. */
function retrainConfig(name: string) {
  return loadConfig({ ...imageEnv, ...environment(services[name]) });
}

// --- the tests ----------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('has the services of the stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'postgresql',
        'temporal-schema',
        'temporal',
        'temporal-namespace',
        'temporal-ui',
        'minio',
        'minio-init',
        'prometheus',
        ...RETRAIN_SERVICES,
      ].sort(),
    );
  });

  it('gives every ${VAR} a default, so it comes up without an .env file', () => {
    expect(missingDefaults).toEqual([]);
  });

  it('pins every image to a version (no missing tag, no latest)', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, `${name}: image or build`).toBeDefined();
      if (!service.image) continue;
      const tag = /:([^/:]+)$/.exec(service.image)?.[1];
      expect(tag, `${name}: ${service.image} has no tag`).toBeDefined();
      expect(tag, `${name}: ${service.image}`).not.toBe('latest');
    }
  });

  it('publishes Temporal (7233), its UI (8080), MinIO (9000, 9001), worker metrics (9464), Prometheus (9090) and the API (8081)', () => {
    const published = (name: string) =>
      portsOf(services[name])
        .filter((p) => p.published)
        .map((p) => `${p.published}:${p.target}`);
    expect(published('temporal')).toContain('7233:7233');
    expect(published('temporal-ui')).toContain('8080:8080');
    expect(published('minio')).toEqual(expect.arrayContaining(['9000:9000', '9001:9001']));
    expect(published('retrain-worker')).toContain('9464:9464');
    expect(published('prometheus')).toContain('9090:9090');
    expect(published('api')).toEqual(['8081:8080']);
    // No two services on one host port: `up` would fail on the second.
    const hostPorts = Object.values(services).flatMap((service) => portsOf(service).flatMap((p) => (p.published ? [p.published] : [])));
    expect(hostPorts.length).toBe(new Set(hostPorts).size);
    // Unless PUBLISH_IP says otherwise, only this machine reaches them: nothing here has a login.
    for (const [name, service] of Object.entries(services)) {
      for (const port of portsOf(service)) expect(port.hostIp, `${name}: ${port.target}`).toBe('127.0.0.1');
    }
  });

  it('declares its named volumes at the top level, and uses each one', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Map<string, string[]>();
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
        const target = typeof volume === 'string' ? volume.split(':')[1] : volume.target;
        if (!source || /^[./~]/.test(source)) continue; // a bind mount
        expect(declared, `${name} mounts volume ${source}`).toContain(source);
        used.set(source, [...(used.get(source) ?? []), `${name}:${target}`]);
      }
    }
    expect([...used.keys()].sort()).toEqual([...declared].sort());
    expect(used.get('postgres-data')).toEqual(['postgresql:/var/lib/postgresql/data']);
    expect(used.get('minio-data')).toEqual(['minio:/data']);
    expect(used.get('api-tokens')).toEqual(['api:/app/.retrain', 'retrain-cli:/app/.retrain']);
    expect(commandOf(services.minio).slice(0, 2)).toEqual(['server', '/data']);
  });

  it('waits only for services that can be healthy or that finish', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(service))) {
        const target = services[dep];
        expect(target, `${name} depends on ${dep}, which does not exist`).toBeDefined();
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${dep}`).toContain(condition);
        if (condition === 'service_healthy') {
          expect(target.healthcheck?.test, `${dep} needs a healthcheck (${name} waits for it)`).toBeDefined();
          expect(target.healthcheck?.disable).not.toBe(true);
        } else {
          expect(ONE_SHOT_SERVICES, `${dep} must be a one-shot service (${name} waits for it to finish)`).toContain(dep);
        }
      }
    }
    for (const name of ONE_SHOT_SERVICES) expect(services[name].restart, `${name} runs once`).toBe('no');
  });

  it('runs Temporal on the PostgreSQL service, with the same credentials everywhere', () => {
    const postgres = environment(services.postgresql);
    const temporal = environment(services.temporal);
    const schema = environment(services['temporal-schema']);
    expect(temporal).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: postgres.POSTGRES_USER,
      POSTGRES_PWD: postgres.POSTGRES_PASSWORD,
    });
    expect(schema).toMatchObject({
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: 'postgresql',
      SQL_USER: postgres.POSTGRES_USER,
      SQL_PASSWORD: postgres.POSTGRES_PASSWORD,
    });
    expect(scriptOf(services['temporal-schema'])).toMatch(/--db temporal_visibility update-schema/);
    expect(dependsOn(services.temporal)).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    // The server refuses to start without its dynamic config file.
    const dynamicConfig = temporal.DYNAMIC_CONFIG_FILE_PATH;
    const mounted = (services.temporal as { configs?: { source: string; target: string }[] }).configs ?? [];
    expect(mounted.map((c) => c.target)).toContain(dynamicConfig);
    for (const c of mounted) expect(Object.keys(compose.configs ?? {})).toContain(c.source);
    expect(environment(services['temporal-ui']).TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('shares the Retrain environment through an x- anchor', () => {
    const shared = raw['x-retrain-env'] as Record<string, string>;
    expect(shared).toBeDefined();
    for (const name of RETRAIN_SERVICES) {
      expect(Object.keys(raw.services[name].environment ?? {}), name).toEqual(expect.arrayContaining(Object.keys(shared)));
    }
  });

  it('gives the Retrain services a configuration that loadConfig accepts, on this stack', () => {
    const bucket = /\bmc mb(?:\s+--[\w-]+)*\s+store\/([^\s/"']+)/.exec(scriptOf(services['minio-init']))?.[1];
    expect(bucket, 'minio-init creates a bucket').toBeDefined();
    expect(scriptOf(services['minio-init'])).toContain('mc alias set store http://minio:9000 ');
    const minio = environment(services.minio);
    const namespace = environment(services['temporal-namespace']).RETRAIN_NAMESPACE;

    for (const name of RETRAIN_SERVICES) {
      const config = retrainConfig(name);
      expect(config.store, name).toMatchObject({ kind: 's3', bucket });
      expect(config.temporalAddress, name).toBe('temporal:7233');
      expect(config.temporalTls, name).toBe(false);
      expect(config.namespace, name).toBe(namespace);
      const endpoint = new URL(config.s3.endpoint!);
      expect(services[endpoint.hostname], `${name}: S3 endpoint ${endpoint.hostname}`).toBe(services.minio);
      expect(portsOf(services.minio).map((p) => p.target)).toContain(Number(endpoint.port));
      expect(config.s3.forcePathStyle, name).toBe(true);
      const env = { ...imageEnv, ...environment(services[name]) };
      expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY], `${name}: MinIO's credentials`).toEqual([
        minio.MINIO_ROOT_USER,
        minio.MINIO_ROOT_PASSWORD,
      ]);
      expect(config.python, name).toBe(imageEnv.RETRAIN_PYTHON);
      expect(config.projectDir, name).toBe(dockerfile('WORKDIR').at(-1));
    }
    expect(environment(services['minio-init'])).toMatchObject({
      MINIO_ROOT_USER: minio.MINIO_ROOT_USER,
      MINIO_ROOT_PASSWORD: minio.MINIO_ROOT_PASSWORD,
    });
  });

  it('runs one worker per task queue, with metrics published and a scalable training worker', () => {
    expect(commandOf(services['retrain-worker'])).toEqual(['worker', '--queues', 'retrain']);
    expect(commandOf(services['retrain-training'])).toEqual(['worker', '--queues', 'training']);
    expect(commandOf(services['retrain-schedules'])).toEqual(['schedules', 'apply']);
    for (const name of ['retrain-worker', 'retrain-training']) {
      const config = retrainConfig(name);
      expect(config.metricsAddress, name).toBe('0.0.0.0:9464');
      expect(
        portsOf(services[name]).map((p) => p.target),
        name,
      ).toContain(9464);
      expect(services[name].restart, name).toBe('unless-stopped');
    }
    // `--scale retrain-training=N`: no fixed name, no fixed host port.
    const training = services['retrain-training'];
    expect(training.container_name).toBeUndefined();
    expect(portsOf(training).every((p) => !p.published)).toBe(true);
    expect(retrainConfig('retrain-training').maxConcurrentTrainings).toBeGreaterThanOrEqual(1);
    expect(services['retrain-cli'].profiles).toEqual(['cli']);
  });

  describe('the HTTP API service', () => {
    const api = services.api!;
    const worker = services['retrain-worker']!;

    it('runs `retrain serve` from the workers’ image, after the same services, on the same Temporal and store', () => {
      expect(commandOf(api)).toEqual(['serve']);
      expect([api.image, api.build]).toEqual([worker.image, worker.build]);
      expect(dependsOn(api)).toEqual(dependsOn(worker));
      expect(api.restart).toBe('unless-stopped');
      expect(api.stop_grace_period, 'time to answer the requests in flight on SIGTERM').toBeDefined();
      // Every shared variable (Temporal, store, S3 credentials, log level) as the worker has it.
      const shared = Object.keys(raw['x-retrain-env'] as Record<string, string>);
      const pick = (name: string) => Object.fromEntries(shared.map((k) => [k, environment(services[name]!)[k]]));
      expect(pick('api')).toEqual(pick('retrain-worker'));
      const [a, w] = [retrainConfig('api'), retrainConfig('retrain-worker')];
      expect({ temporal: a.temporalAddress, namespace: a.namespace, store: a.store, s3: a.s3 }).toEqual({
        temporal: w.temporalAddress,
        namespace: w.namespace,
        store: w.store,
        s3: w.s3,
      });
    });

    it('listens on every interface of its container, published on the host’s loopback only', () => {
      const address = retrainConfig('api').apiAddress;
      const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').pop())];
      expect(host, 'reachable from the host and from other containers').toBe('0.0.0.0');
      expect(portsOf(api).map((p) => p.target)).toEqual([port]);
      // Written out, not ${PUBLISH_IP:-…}: bearer tokens must not cross a network without TLS.
      for (const port of raw.services.api!.ports ?? []) expect(String(port)).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    });

    it('has a health check on /healthz that runs with what the image has, and works', async () => {
      const test = api.healthcheck?.test;
      expect(Array.isArray(test) && test.slice(0, 2)).toEqual(['CMD', 'node']); // no curl or wget in node:*-slim
      const script = (test as string[]).at(-1)!;
      const url = new URL(/'(http:\/\/[^']+)'/.exec(script)![1]!);
      expect(url.pathname).toBe('/healthz');
      expect(Number(url.port)).toBe(Number(retrainConfig('api').apiAddress.split(':').pop()));
      expect(read('api/routes/health.ts')).toContain("app.get('/healthz'");
      // The same script against a server of ours: 0 when /healthz answers 200, 1 otherwise.
      const runAgainst = async (status: number | null) => {
        const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? (status ?? 500) : 404).end('{}'));
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        if (status === null) await new Promise((resolve) => server.close(resolve)); // nothing listens
        const child = spawn(process.execPath, ['-e', script.replace(`:${url.port}/`, `:${port}/`)], { stdio: 'ignore' });
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        if (status !== null) await new Promise((resolve) => server.close(resolve));
        return code;
      };
      expect(await runAgainst(200)).toBe(0);
      expect(await runAgainst(503)).toBe(1);
      expect(await runAgainst(null)).toBe(1);
    });

    it('reads its tokens where `retrain-cli token add` writes them, in a volume the image’s user can write', () => {
      const file = retrainConfig('api').apiTokensFile;
      expect(retrainConfig('retrain-cli').apiTokensFile).toBe(file);
      const mountOf = (name: string) =>
        (services[name]!.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]));
      for (const name of ['api', 'retrain-cli']) expect(mountOf(name), name).toEqual([['api-tokens', dirname(file)]]);
      // A new named volume takes the owner of the image's directory: the image makes it the user's.
      const user = dockerfile('USER').at(-1)!.split(':')[0];
      expect(dockerfile('RUN').join('\n')).toMatch(new RegExp(`mkdir -p ${dirname(file)}\\b.*chown ${user}:${user} ${dirname(file)}\\b`));
      // `docker compose run --rm retrain-cli check` checks the API too, by its service name.
      const apiUrl = new URL(retrainConfig('retrain-cli').apiUrl!);
      expect(services[apiUrl.hostname], `RETRAIN_API_URL of retrain-cli names ${apiUrl.hostname}`).toBe(api);
      expect(Number(apiUrl.port)).toBe(portsOf(api)[0]!.target);
    });
  });

  it('lets a stopping worker finish or hand back its activities before Docker kills it', () => {
    for (const name of ['retrain-worker', 'retrain-training']) {
      const grace = retrainConfig(name).shutdownGraceSeconds;
      const stop = services[name].stop_grace_period;
      expect(stop, `${name}: stop_grace_period`).toBeDefined();
      expect(seconds(stop!), `${name}: stop_grace_period ${stop} vs RETRAIN_SHUTDOWN_GRACE_SECONDS=${grace}`).toBeGreaterThan(
        grace + HAND_BACK_SECONDS,
      );
    }
  });

  it('gives the Retrain services arguments the CLI accepts', () => {
    // Arguments are parsed before the environment is read: with a bad RETRAIN_LOG_LEVEL, good
    // arguments fail on that variable, bad ones on the command line.
    const commands = new Set(
      ['retrain-worker', 'retrain-training', 'retrain-schedules', 'api'].map((name) => JSON.stringify(commandOf(services[name]))),
    );
    for (const command of commands) {
      const args = JSON.parse(command) as string[];
      const run = spawnSync(process.execPath, [join(ROOT, 'bin', 'retrain.mjs'), ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, RETRAIN_LOG_LEVEL: 'not-a-level' },
        timeout: 60_000,
      });
      expect(run.stderr, args.join(' ')).toContain('RETRAIN_LOG_LEVEL');
      expect(run.stderr, args.join(' ')).not.toContain('command line');
      expect(run.status, args.join(' ')).toBe(2);
    }
  });

  // compose-go is the library `docker compose` loads files with: the same schema validation,
  // interpolation, merges and consistency checks as `docker compose config`, without the plugin.
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const goMissing = go.error ? `no Go toolchain on this machine (${go.error.message})` : undefined;
  // The first run downloads and builds the loader; later ones reuse Go's caches.
  const composeLoad = (file: string) =>
    spawnSync('go', ['run', '.', file], { cwd: join(ROOT, 'test/helpers/compose-config'), encoding: 'utf8', timeout: 280_000 });

  it("is accepted by Compose's loader, which resolves it as the checks above do", { timeout: 300_000 }, (ctx) => {
    ctx.skip(goMissing !== undefined, `skipped: ${goMissing}`);
    const run = composeLoad(join(ROOT, 'docker-compose.yml'));
    expect(run.status, run.stderr).toBe(0);
    const loaded = JSON.parse(run.stdout) as Compose;
    // Every profile is loaded, so retrain-cli is there too.
    expect(Object.keys(loaded.services).sort()).toEqual(Object.keys(services).sort());
    // What the checks above read must be what Compose reads: the same interpolation, anchors and
    // merge keys, short port syntax and depends_on forms.
    for (const [name, service] of Object.entries(loaded.services)) {
      expect(environment(service), `${name}: environment`).toEqual(environment(services[name]));
      expect(commandOf(service), `${name}: command`).toEqual(commandOf(services[name]));
      expect(portsOf(service), `${name}: ports`).toEqual(portsOf(services[name]));
      expect(dependsOn(service), `${name}: depends_on`).toEqual(dependsOn(services[name]));
    }
    const contents = (c: Compose) =>
      Object.fromEntries(Object.entries(c.configs ?? {}).map(([k, v]) => [k, (v as { content?: string }).content]));
    expect(contents(loaded)).toEqual(contents(compose));
  });

  it("is refused by Compose's loader when it breaks the schema or names a missing service", { timeout: 300_000 }, (ctx) => {
    ctx.skip(goMissing !== undefined, `skipped: ${goMissing}`);
    // So the test above cannot pass by accepting anything.
    const dir = mkdtempSync(join(tmpdir(), 'retrain-compose-'));
    try {
      const broken: [string, string, RegExp][] = [
        ['unknown key', 'services:\n  a:\n    image: x:1\n    restrat: always\n', /services\.a\.restrat/],
        ['missing service', 'services:\n  a:\n    image: x:1\n    depends_on: [b]\n', /depends on undefined service "b"/],
      ];
      for (const [what, content, reason] of broken) {
        const file = join(dir, `${what.replace(' ', '-')}.yml`);
        writeFileSync(file, content);
        const run = composeLoad(file);
        expect(run.status, what).toBe(1);
        expect(run.stderr, what).toMatch(reason);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus in the stack', () => {
  const configs = compose.configs as Record<string, { content: string }>;
  const prometheus = parse(configs['prometheus-config']!.content) as {
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }[];
  };
  const rules = parse(configs['prometheus-rules']!.content) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const mounted = (service: string) => (services[service] as { configs?: { source: string; target: string }[] }).configs ?? [];

  it('scrapes every Retrain worker on the port RETRAIN_METRICS_ADDRESS serves, each training replica included', () => {
    const port = (service: string) => Number(retrainConfig(service).metricsAddress!.split(':').pop());
    const job = (name: string) => prometheus.scrape_configs.find((j) => j.job_name === name)!;
    expect(job('retrain-worker').static_configs![0]!.targets).toEqual([`retrain-worker:${port('retrain-worker')}`]);
    // DNS discovery: `--scale retrain-training=N` gives N addresses under the one service name.
    expect(job('retrain-training').dns_sd_configs).toEqual([{ names: ['retrain-training'], type: 'A', port: port('retrain-training') }]);
  });

  it('loads the alert rules from where the rules config is mounted', () => {
    const rulesTarget = mounted('prometheus').find((c) => c.source === 'prometheus-rules')!.target;
    expect(prometheus.rule_files).toEqual([rulesTarget]);
    expect(mounted('prometheus').find((c) => c.source === 'prometheus-config')!.target).toBe('/etc/prometheus/prometheus.yml');
    expect(commandOf(services.prometheus!)).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('alerts on prediction drift, using only metric names Retrain exports', () => {
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toContain('ModelPredictionDrift');
    expect(all.find((r) => r.alert === 'ModelPredictionDrift')!.expr).toContain('retrain_prediction_drift');
    // A renamed metric would leave a rule that never fires: check each name against the code.
    const exported = new Set([...read('activities/telemetry.ts').matchAll(/'(retrain_[a-z0-9_]+)'/g)].map((m) => m[1]));
    for (const rule of all) {
      for (const [name] of rule.expr.matchAll(/retrain_[a-z0-9_]+/g)) expect(exported, `${rule.alert}: ${name}`).toContain(name);
    }
    // Compose turned `$$labels` into Prometheus' `$labels`.
    expect(configs['prometheus-rules']!.content).toContain('{{ $labels.model }}');
  });
});

describe('Dockerfile', () => {
  it("builds on a pinned Node 22 image (the AWS SDK's coming minimum) and runs bin/retrain.mjs as an unprivileged user", () => {
    const from = dockerfile('FROM');
    expect(from).toHaveLength(1);
    expect(from[0]).toMatch(/^node:22\.\d+\.\d+-bookworm-slim$/);
    const user = dockerfile('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    const entrypoint = JSON.parse(dockerfile('ENTRYPOINT').at(-1)!) as string[];
    expect(entrypoint[0]).toBe('node');
    const workdir = dockerfile('WORKDIR').at(-1)!;
    expect(entrypoint[1]).toBe(join(workdir, 'bin', 'retrain.mjs'));
    expect(existsSync(join(ROOT, 'bin', 'retrain.mjs'))).toBe(true);
  });

  it('makes the training venv from training/requirements.txt and points RETRAIN_PYTHON at it', () => {
    const run = dockerfile('RUN').join('\n');
    expect(run).toMatch(/apt-get install .*\bpython3\b.*\bpython3-venv\b/);
    const venv = /python3 -m venv (\S+)/.exec(run)?.[1];
    expect(venv).toBeDefined();
    expect(imageEnv.RETRAIN_PYTHON).toBe(`${venv}/bin/python`);
    expect(run).toMatch(new RegExp(`${venv}/bin/pip install .*--requirement \\S*requirements\\.txt`));
    expect(dockerfile('COPY').some((args) => args.startsWith('training/requirements.txt '))).toBe(true);
  });

  it('installs the locked npm packages, tsx among them', () => {
    const npmCi = dockerfile('RUN').find((args) => /\bnpm ci\b/.test(args));
    expect(npmCi).toBeDefined();
    // bin/retrain.mjs loads the TypeScript through tsx at run time: --omit=dev would break the
    // image if tsx were a devDependency.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    if (npmCi!.includes('--omit=dev')) expect(pkg.dependencies.tsx).toBeDefined();
    expect(read('bin/retrain.mjs')).toContain("from 'tsx/esm/api'");
  });

  it('copies files that exist and that .dockerignore lets through', () => {
    for (const args of dockerfile('COPY')) {
      if (args.includes('--from')) continue;
      const sources = args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
        if (source !== '.') expect(ignored(source), `COPY ${source} is in .dockerignore`).toBe(false);
      }
    }
    // What the image runs must reach it through `COPY . .`.
    for (const path of [
      'bin/retrain.mjs',
      'lib',
      'scripts',
      'workers',
      'workflows',
      'activities',
      'store',
      'training/train.py',
      'pipelines',
      'examples/data',
    ]) {
      expect(ignored(path), `${path} is in .dockerignore`).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps installed packages, local state and history out of the build context', () => {
    for (const path of ['node_modules', '.retrain', '.git', '.retrain/venv/bin/python']) expect(ignored(path), path).toBe(true);
  });
});
