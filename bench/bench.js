#!/usr/bin/env node
// npm run bench: the built api against real PostgreSQL and Redis, next to a bare Fastify baseline,
// loaded by autocannon from separate processes on loopback. Each scenario: a warm-up, several rounds,
// the median quoted, and every throughput also as a ratio to the baseline measured in the same run
// (absolute numbers drift on shared machines; ratios hold). Writes bench/results.json and bench/report.md.
//
// Options: --duration s (10) --rounds n (3) --warmup s (3) --connections n (16) --mails n (400)
//          --rate auto|req/s|0 (auto: each route and its floor again at half the route's full-speed rate; 0: off)
//          --probes n (200, per timing scenario: forgot-timing, login-timing) --scenarios a,b (all) --out dir (bench)
//          --compare-env 'K=V K2=V2', --compare-node-flags '--flag=v' and/or --compare-entry path/to/main.js:
//            a second api ("b") with those variables, node flags (after the deployed ones) or that build, its health/me/teams/projects/members/dashboard rounds interleaved with the first's (an A/B)
// Environment: BENCH_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (redis://127.0.0.1:6379),
//              BENCH_API_NODE_FLAGS (extra node flags for the api, e.g. --cpu-prof)
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { cpus } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { SMTPServer } = require('smtp-server');

const ROOT = join(__dirname, '..');
const API_ENTRY = join(ROOT, 'dist/apps/api/apps/api/src/main.js');
const ALL = [
  'baseline',
  'nest-floor',
  'health',
  'me-floor',
  'me',
  'teams-floor',
  'teams',
  'teams-api-key',
  'projects',
  'members',
  'dashboard-graphql',
  'dashboard-rest',
  'login',
  'jobs',
  'forgot-timing',
  'login-timing',
  'events',
];
/** bench/report.md keeps what follows this line (sections measured by the other bench scripts). */
const KEEP_MARKER = '<!-- generated above by `npm run bench`; kept below -->';
const WORKER_ENTRY = join(ROOT, 'dist/apps/worker/apps/worker/src/main.js');
const TARGETS = { me: 0.6, teams: 0.35, 'teams-api-key': 0.35 };
/** Each measured route and the floor its CPU per request is compared with. */
const FLOOR_OF = { health: 'nest-floor', me: 'me-floor', teams: 'teams-floor' };
/** The routes that get a twin on the second api in an A/B run (--compare-env, --compare-entry). */
const COMPARED = ['health', 'me', 'teams', 'projects', 'members', 'dashboard-graphql', 'dashboard-rest'];
const twin = (name) => `${name}@b`;

function parseArgs(argv) {
  const options = {
    duration: 10,
    rounds: 3,
    warmup: 3,
    connections: 16,
    mails: 400,
    probes: 200,
    rate: 'auto',
    compareEnv: undefined,
    compareEntry: undefined,
    compareNodeFlags: undefined,
    scenarios: ALL,
    out: join(ROOT, 'bench'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i]?.replace(/^--/, ''), argv[i + 1]];
    if (name === 'scenarios') options.scenarios = value.split(',');
    else if (name === 'compare-env') {
      const pairs = (value ?? '').split(' ').filter(Boolean);
      if (pairs.length === 0 || !pairs.every((pair) => /^[A-Z_][A-Z0-9_]*=/.test(pair)))
        throw new Error("--compare-env takes 'NAME=value NAME2=value2'");
      options.compareEnv = Object.fromEntries(
        pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
    } else if (name === 'compare-entry') options.compareEntry = value;
    else if (name === 'compare-node-flags') {
      const flags = (value ?? '').split(' ').filter(Boolean);
      if (flags.length === 0 || !flags.every((flag) => flag.startsWith('--')))
        throw new Error("--compare-node-flags takes '--flag=value --flag2'");
      options.compareNodeFlags = flags;
    } else if (name === 'out') options.out = value;
    else if (name === 'rate') {
      if (value !== 'auto' && !/^\d+$/.test(value ?? ''))
        throw new Error('--rate takes auto, 0 or requests per second');
      options.rate = value === 'auto' ? value : Number(value);
    } else if (name in options) options[name] = Number(value);
    else throw new Error(`unknown option --${name}`);
  }
  for (const scenario of options.scenarios)
    if (!ALL.includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
  // Some scenarios only: the committed bench/report.md stays as the last full run left it.
  if (!argv.includes('--out') && options.scenarios.length < ALL.length) options.out = join(ROOT, 'bench', 'partial');
  return options;
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function start(args, env, ready) {
  // An undefined value removes the variable (the embedded-database api must not inherit DATABASE_URL).
  const merged = Object.fromEntries(
    Object.entries({ ...process.env, ENV_FILE: 'none', ...env }).filter(([, value]) => value !== undefined),
  );
  const child = spawn(process.execPath, args, { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: the caller never got hold of it.
      child.kill('SIGKILL');
      reject(new Error(`did not start: ${output.slice(-2000)}`));
    }, 60_000);
    let started = false;
    const collect = (chunk) => {
      // Once started, the output (a log line per request, as in production) is drained, not kept.
      if (started) return;
      output += chunk.toString();
      if (ready.test(output)) {
        started = true;
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('exit', (code) => {
      if (!started) reject(new Error(`exited ${code}: ${output.slice(-2000)}`));
    });
  });
}

function load(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'load.js'), JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`load failed (${code})`))));
  });
}

/** The dashboard both ways: the organization, its teams with their members, its projects. */
const DASHBOARD_TEAMS = 10;
const DASHBOARD_QUERY = `query Dashboard($org: ID!) {
  organization(orgId: $org) {
    name
    teams(first: ${DASHBOARD_TEAMS}) { totalCount edges { node { id name members { email roles { name } } } } }
    projects(first: 10) { totalCount edges { node { name status } } }
  }
}`;

/** One sentence: a dashboard through GraphQL (one request) against the REST calls it replaces. */
function dashboardComparison(graphql, rest) {
  const perDashboard = (value) => Math.round(value * rest.requestsPerUnit);
  const restDashboards = (rest.requestsPerSecond / rest.requestsPerUnit).toFixed(0);
  const restTx = (rest.transactionsPerRequest * rest.requestsPerUnit).toFixed(1);
  return (
    `Dashboard (an organization, its ${DASHBOARD_TEAMS} teams with their members and roles, 10 projects): ` +
    `GraphQL, one request: ${graphql.requestsPerSecond} dashboards/s, ${graphql.apiCpuUsPerRequest} µs api CPU and ` +
    `${graphql.transactionsPerRequest} DB transactions each. REST, the ${rest.requestsPerUnit} calls it replaces: ` +
    `${restDashboards} dashboards/s (${rest.requestsPerSecond} req/s), ${perDashboard(rest.apiCpuUsPerRequest)} µs api CPU and ` +
    `${restTx} DB transactions each.`
  );
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** User + system CPU time of a process so far, in ms (from /proc; clock ticks are 10 ms on Linux). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The resident set of a process in MB, or null when it cannot be read (the process is gone). */
function rssMb(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Math.round(Number(match[1]) / 1024) : null;
}

/** Fisher–Yates, in place. */
function shuffle(items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Mann–Whitney U test of two samples (normal approximation with tie correction): the two-sided
 * p-value of "both groups come from the same distribution". Small p: the groups differ.
 */
function mannWhitneyP(a, b) {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array(all.length);
  let ties = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    ties += t ** 3 - t;
    i = j + 1;
  }
  const rankSumA = all.reduce((sum, entry, i) => sum + (entry.g === 0 ? ranks[i] : 0), 0);
  const [n1, n2] = [a.length, b.length];
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (sigma === 0) return 1;
  const z = Math.abs(u - (n1 * n2) / 2) / sigma;
  // erfc by Abramowitz–Stegun 7.1.26 (error below 1.5e-7): p = erfc(z / √2).
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * Math.exp(-x * x);
}

/** What the timing scenarios send: a route whose answer must not depend on whether the address has an account. */
const EXISTENCE_PROBES = {
  'forgot-timing': {
    label: 'POST /auth/forgot-password',
    path: '/auth/forgot-password',
    body: (email) => ({ email }),
    status: 202,
  },
  'login-timing': {
    label: 'POST /auth/login, wrong password',
    path: '/auth/login',
    body: (email) => ({ email, password: 'Wrong-Horse-Battery-0000' }),
    status: 401,
  },
};

/**
 * A route as an account-existence oracle: `probes` requests, half to existing accounts and half to
 * addresses that have none, in shuffled order, one at a time (so no request queues behind another
 * of its own group), each timed from the client. Reports each group's median, the difference, and
 * the Mann–Whitney p-value of the two samples.
 */
async function existenceTiming(base, probe, existing, probes) {
  const send = async (email) => {
    const started = process.hrtime.bigint();
    const res = await fetch(`${base}${probe.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(probe.body(email)),
    });
    await res.arrayBuffer();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.status !== probe.status) throw new Error(`${probe.path}: ${res.status}`);
    return ms;
  };
  const unknown = (i) => `nobody-${randomBytes(6).toString('hex')}-${i}@example.test`;
  // Warm-up (not counted): both kinds, so neither group pays for the first query plans.
  for (let i = 0; i < 20; i++) await send(i % 2 ? existing[i % existing.length] : unknown(i));
  const half = Math.floor(probes / 2);
  const plan = shuffle([
    ...Array.from({ length: half }, (_, i) => ({ group: 'existing', email: existing[i % existing.length] })),
    ...Array.from({ length: half }, (_, i) => ({ group: 'unknown', email: unknown(i) })),
  ]);
  const times = { existing: [], unknown: [] };
  for (const { group, email } of plan) times[group].push(await send(email));
  const round = (ms) => Number(ms.toFixed(2));
  const existingMs = median(times.existing);
  const unknownMs = median(times.unknown);
  return {
    requests: plan.length,
    existingMedianMs: round(existingMs),
    unknownMedianMs: round(unknownMs),
    differenceMs: round(existingMs - unknownMs),
    mannWhitneyP: Number(mannWhitneyP(times.existing, times.unknown).toPrecision(2)),
  };
}

/**
 * The api runs as the image and the base Kubernetes deployment run it: the Dockerfile's malloc
 * setting and the deployment's V8 heap sizes, old and young generation (read from those files, so
 * the two cannot drift).
 */
const asDeployed = (() => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const deployment = readFileSync(join(ROOT, 'deploy/k8s/base/api-deployment.yaml'), 'utf8');
  const threshold = /^ENV MALLOC_MMAP_THRESHOLD_=(\d+)$/m.exec(dockerfile)?.[1];
  const heap = /--max-(?:old|semi)-space-size=\d+/g;
  const flags = /name: NODE_OPTIONS\s+value: (.+)/.exec(deployment)?.[1] ?? '';
  return {
    env: threshold ? { MALLOC_MMAP_THRESHOLD_: threshold } : {},
    nodeFlags: flags.match(heap) ?? [],
  };
})();

/**
 * Domain events out (bench/events.bench.ts under Jest): webhook deliveries per second and idle
 * event-to-receiver latency, embedded and through one worker process on PostgreSQL + Redis, and RSS
 * per open event stream. Returns the figures the script prints.
 */
function measureEvents(adminUrl, redisUrl) {
  const jest = [
    '--experimental-vm-modules',
    join(ROOT, 'node_modules/jest/bin/jest.js'),
    '--config',
    join(ROOT, 'bench/jest.identity.config.js'),
    'bench/events',
  ];
  const run = (env, extra) => {
    const out = spawnSync(process.execPath, [...jest, ...extra], {
      cwd: ROOT,
      // The bench's own servers for the worker half (services-global-setup reads TEST_*).
      env: { ...process.env, TEST_PG_ADMIN_URL: adminUrl, TEST_REDIS_URL: redisUrl, ENV_FILE: 'none', ...env },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (out.status !== 0) throw new Error(`bench/events failed:\n${out.stdout}\n${out.stderr}`);
    return out.stdout;
  };
  const parseWebhooks = (text) => {
    const m =
      /Webhooks: ([\d.]+) deliveries\/s, (.*?); idle event-to-receiver latency p50 ([\d.]+) ms, p99 ([\d.]+) ms/.exec(
        text,
      );
    if (!m) throw new Error(`no webhook figures in:\n${text}`);
    return { deliveriesPerSecond: Number(m[1]), how: m[2], idleP50Ms: Number(m[3]), idleP99Ms: Number(m[4]) };
  };
  const embeddedText = run({ BENCH_SERVICES: '' }, []);
  const streams =
    /Event streams: (\d+) open .*?RSS ([\d.]+) MiB before, ([\d.]+) MiB after, ([\d.]+) KiB per stream/.exec(
      embeddedText,
    );
  if (!streams) throw new Error(`no stream figures in:\n${embeddedText}`);
  return {
    embedded: parseWebhooks(embeddedText),
    worker: parseWebhooks(run({ BENCH_SERVICES: '1' }, ['-t', 'throughput'])),
    streams: {
      open: Number(streams[1]),
      rssBeforeMiB: Number(streams[2]),
      rssAfterMiB: Number(streams[3]),
      kibPerStream: Number(streams[4]),
    },
  };
}

/**
 * A database of its own for one bench run, migrated as in production: the migrate step owns the
 * schema and provisions a runtime login that owns nothing (NODE_ENV=production refuses an owner);
 * the api and the raw-SQL floors both use it. `drop()` removes the database and the login.
 */
async function freshDatabase() {
  const adminUrl = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `bench_${randomBytes(4).toString('hex')}`;
  const ownerUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
  const runtimeRole = `${database}_rt`;
  const databaseUrl = Object.assign(new URL(ownerUrl), { username: runtimeRole, password: 'bench' }).toString();
  const admin = new Client({ connectionString: adminUrl });
  // Idle for minutes in a long run: a dropped connection must not end the run (drop() reports it).
  admin.on('error', () => undefined);
  await admin.connect();
  const drop = async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS "${runtimeRole}"`).catch(() => undefined);
    await admin.end();
  };
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
    execFileSync(process.execPath, [API_ENTRY, 'migrate'], {
      env: {
        ...process.env,
        ENV_FILE: 'none',
        DATABASE_URL: databaseUrl,
        DATABASE_MIGRATION_URL: ownerUrl,
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
  } catch (error) {
    await drop();
    throw error;
  }
  return { adminUrl, redisUrl, database, ownerUrl, databaseUrl, admin, drop };
}

/** The api's environment in a bench run: production settings, as deployed, limits out of the way. */
function apiEnvironment({ database, databaseUrl, redisUrl }, port) {
  return {
    ...asDeployed.env,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: database,
    JWT_SECRET: randomBytes(32).toString('hex'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
    HOST: '127.0.0.1',
    // As in production: one JSON line per request.
    LOG_LEVEL: 'info',
    // A full run outlasts the default 15 minutes, and the seeded token must still be good for the
    // last rounds (the one-rate pass): it expired there once, and the ratios were of 401s. How long
    // a token lives costs nothing per request.
    ACCESS_TOKEN_TTL: '3h',
    // Throughput is the question here, not the limits (their cost is in docs/security.md).
    RATE_LIMIT_PER_MINUTE: '1000000000',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
    LOCKOUT_THRESHOLD: '1000000000',
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const db = await freshDatabase();
  const { adminUrl, redisUrl, database, ownerUrl, databaseUrl } = db;
  const children = [];
  try {
    const [apiPort, basePort] = [await freePort(), await freePort()];
    // BENCH_API_NODE_FLAGS="--cpu-prof --cpu-prof-dir=prof": profile the api under load.
    const apiFlags = [...asDeployed.nodeFlags, ...(process.env.BENCH_API_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
    const apiEnv = apiEnvironment(db, apiPort);
    // What the worker shares with the api (its database, Redis, queues and secrets).
    const appEnv = Object.fromEntries(
      ['NODE_ENV', 'DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX', 'JWT_SECRET', 'MFA_ENCRYPTION_KEY'].map((name) => [
        name,
        apiEnv[name],
      ]),
    );
    const api = await start([...apiFlags, API_ENTRY], apiEnv, /api listening/);
    children.push(api);
    children.push(await start([join(__dirname, 'baseline.js'), String(basePort)], {}, /ready/));
    // A/B: the same api (or another build) with other variables, on the same database and Redis.
    const comparing = Boolean(options.compareEnv || options.compareEntry || options.compareNodeFlags);
    const apiB = comparing && { port: await freePort() };
    if (apiB) {
      apiB.child = await start(
        [...apiFlags, ...(options.compareNodeFlags ?? []), options.compareEntry ?? API_ENTRY],
        { ...apiEnv, PORT: String(apiB.port), ...options.compareEnv },
        /api listening/,
      );
      children.push(apiB.child);
    }

    // Seed: a user with an organization, a team and an API key.
    const base = `http://127.0.0.1:${apiPort}/api/v1`;
    const post = async (path, body, headers = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const email = `bench-${database}@example.test`;
    const password = 'Tangerine-Vortex-Quill-8841';
    await post('/auth/register', { email, password });
    const { access_token: token } = await post('/auth/login', { email, password });
    const auth = { authorization: `Bearer ${token}` };
    const org = await post('/organizations', { name: 'Bench' }, auth);
    await post(`/organizations/${org.id}/teams`, { name: 'Core' }, auth);
    const { key } = await post(
      `/organizations/${org.id}/api-keys`,
      { name: 'bench', permissions: ['teams:read'] },
      auth,
    );
    // A dashboard's worth: ten teams (the owner in each) and ten projects.
    const teamIds = [];
    if (options.scenarios.some((name) => name.startsWith('dashboard-'))) {
      const teamList = await (await fetch(`${base}/organizations/${org.id}/teams`, { headers: auth })).json();
      teamIds.push(...teamList.items.map((team) => team.id));
      for (let i = teamIds.length; i < DASHBOARD_TEAMS; i++) {
        teamIds.push((await post(`/organizations/${org.id}/teams`, { name: `Team ${i}` }, auth)).id);
      }
    }
    // Ten projects (TenantResources' compiled page read), for the dashboards and the projects list.
    if (options.scenarios.some((name) => name.startsWith('dashboard-') || name === 'projects')) {
      for (let i = 0; i < 10; i++) await post(`/organizations/${org.id}/projects`, { name: `Project ${i}` }, auth);
    }

    // The floors, each in its own process so its CPU is its own (bench/floors.js).
    const me = await (await fetch(`${base}/users/me`, { headers: auth })).json();
    const floors = {};
    if (options.scenarios.includes('nest-floor')) {
      const port = await freePort();
      floors.nest = { port, child: await start([join(__dirname, 'floors.js'), 'nest', String(port)], {}, /ready/) };
      children.push(floors.nest.child);
    }
    if (options.scenarios.includes('me-floor') || options.scenarios.includes('teams-floor')) {
      const port = await freePort();
      floors.pg = {
        port,
        child: await start(
          [join(__dirname, 'floors.js'), 'pg', String(port)],
          { DATABASE_URL: databaseUrl, BENCH_USER_ID: me.id, BENCH_ORG_ID: org.id },
          /ready/,
        ),
      };
      children.push(floors.pg.child);
    }

    const scenarios = {
      baseline: { url: `http://127.0.0.1:${basePort}/ping` },
      'nest-floor': floors.nest && {
        url: `http://127.0.0.1:${floors.nest.port}/health`,
        cpuPid: floors.nest.child.pid,
      },
      health: { url: `http://127.0.0.1:${apiPort}/health` },
      'me-floor': floors.pg && {
        url: `http://127.0.0.1:${floors.pg.port}/me`,
        cpuPid: floors.pg.child.pid,
        countTransactions: true,
      },
      me: { url: `${base}/users/me`, headers: auth, countTransactions: true },
      'teams-floor': floors.pg && {
        url: `http://127.0.0.1:${floors.pg.port}/teams`,
        cpuPid: floors.pg.child.pid,
        countTransactions: true,
      },
      teams: {
        url: `${base}/organizations/${org.id}/teams`,
        headers: auth,
        countTransactions: true,
        sampleMemory: true,
      },
      'teams-api-key': {
        url: `${base}/organizations/${org.id}/teams`,
        headers: { 'x-api-key': key },
        countTransactions: true,
      },
      // A generated module's list (TenantResources): no floor of its own, compared between builds.
      projects: {
        url: `${base}/organizations/${org.id}/projects?pageSize=10`,
        headers: auth,
        countTransactions: true,
      },
      // The organization's members with their roles (one member, the owner): no floor, compared between builds.
      members: {
        url: `${base}/organizations/${org.id}/members`,
        headers: auth,
        countTransactions: true,
      },
      'dashboard-graphql': {
        url: `http://127.0.0.1:${apiPort}/graphql`,
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query: DASHBOARD_QUERY, variables: { org: org.id } }),
        countTransactions: true,
      },
      // The REST calls the GraphQL dashboard replaces, in order, over and over on each connection.
      'dashboard-rest': {
        url: `http://127.0.0.1:${apiPort}`,
        headers: auth,
        requests: [
          `/api/v1/organizations/${org.id}`,
          `/api/v1/organizations/${org.id}/teams?pageSize=${DASHBOARD_TEAMS}`,
          `/api/v1/organizations/${org.id}/projects?pageSize=10`,
          ...teamIds.map((teamId) => `/api/v1/organizations/${org.id}/teams/${teamId}/members`),
        ].map((path) => ({ method: 'GET', path })),
        requestsPerUnit: 3 + DASHBOARD_TEAMS,
        countTransactions: true,
      },
      login: {
        url: `${base}/auth/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
        alongside: { url: `http://127.0.0.1:${apiPort}/health`, connections: 1 },
      },
    };
    for (const name of apiB ? COMPARED : []) {
      const { url, ...rest } = scenarios[name];
      // Memory is sampled from the first api only.
      delete rest.sampleMemory;
      scenarios[twin(name)] = {
        ...rest,
        url: url.replace(`127.0.0.1:${apiPort}`, `127.0.0.1:${apiB.port}`),
        cpuPid: apiB.child.pid,
      };
    }
    const stats = new Client({ connectionString: ownerUrl });
    // Dropped with its database in `finally`: that must not hide the error that got us there.
    stats.on('error', () => undefined);
    await stats.connect();
    // Backends flush their statistics when idle for 10 s (PostgreSQL 15+): wait that out.
    const transactions = async () => {
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      await stats.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await stats.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()');
      return Number(rows[0].xact_commit);
    };

    const memory = { idleMb: rssMb(api.pid), underLoadMb: null };
    const results = {};
    const order = [
      'baseline',
      ...options.scenarios.filter(
        (name) => !['baseline', 'jobs', 'events', ...Object.keys(EXISTENCE_PROBES)].includes(name),
      ),
    ];
    const measured = order
      .filter((scenario) => options.scenarios.includes(scenario) || scenario === 'baseline')
      .flatMap((scenario) => (apiB && COMPARED.includes(scenario) ? [scenario, twin(scenario)] : [scenario]));
    const setup = (name) => {
      const {
        countTransactions,
        sampleMemory,
        alongside,
        requestsPerUnit = 1,
        cpuPid = api.pid,
        ...target
      } = scenarios[name];
      return { countTransactions, sampleMemory, alongside, requestsPerUnit, cpuPid, target };
    };
    const run = (target, duration, rate) =>
      load({ ...target, connections: options.connections, duration, ...(rate ? { overallRate: rate } : {}) });
    // One round of a scenario: its requests, and the CPU the serving process spent on them.
    const measure = async (name, rate) => {
      const { countTransactions, sampleMemory, alongside, cpuPid, target } = setup(name);
      // Not at a fixed rate: the count's 11 s waits would double the pass for a figure already known.
      const counting = countTransactions && !rate;
      const before = counting ? await transactions() : 0;
      let peak = 0;
      const sampler = sampleMemory ? setInterval(() => (peak = Math.max(peak, rssMb(api.pid) ?? 0)), 200) : undefined;
      const cpuBefore = name === 'baseline' ? 0 : cpuMs(cpuPid);
      let main, side;
      try {
        [main, side] = await Promise.all([
          run(target, options.duration, rate),
          alongside ? load({ ...alongside, duration: options.duration }) : undefined,
        ]);
      } finally {
        clearInterval(sampler);
      }
      if (sampleMemory) memory.underLoadMb = Math.max(memory.underLoadMb ?? 0, peak);
      const after = counting ? await transactions() : 0;
      // The serving process's own CPU per request: steadier across noisy machines than throughput.
      const cpuUsPerRequest =
        name === 'baseline' ? undefined : ((cpuMs(cpuPid) - cpuBefore) * 1000) / (main.total + (side?.total ?? 0));
      return {
        ...main,
        side,
        cpuUsPerRequest,
        txPerRequest: counting ? (after - before) / main.total : undefined,
      };
    };
    // Every scenario warms up first (JIT, pools, the password checker's thread), then the rounds are
    // interleaved: round 1 of every scenario, then round 2, ... so a drift of the machine's speed
    // during the run reaches a route and its floor alike. The login storm (password hashing, session
    // and audit writes) keeps its rounds for after the others, so its after-effects (autovacuum, the
    // hashing thread) land in no other scenario's round.
    for (const name of measured) if (options.warmup > 0) await run(setup(name).target, options.warmup);
    const roundsOf = Object.fromEntries(measured.map((name) => [name, []]));
    const afterwards = measured.filter((name) => name === 'login');
    const interleaved = measured.filter((name) => !afterwards.includes(name));
    for (let round = 0; round < options.rounds; round++) {
      // In an A/B run, which of a route and its twin goes first alternates from round to round.
      const inOrder =
        round % 2 === 0
          ? interleaved
          : interleaved.map((name, i) =>
              scenarios[twin(name)] && interleaved[i + 1] === twin(name)
                ? twin(name)
                : name.endsWith('@b') && interleaved[i - 1] === name.slice(0, -2)
                  ? name.slice(0, -2)
                  : name,
            );
      for (const name of inOrder) roundsOf[name].push(await measure(name));
    }
    for (const name of afterwards) {
      for (let round = 0; round < options.rounds; round++) roundsOf[name].push(await measure(name));
    }
    // A round in which a request failed measured error pages, not the route: its CPU figure and its
    // ratio are left out (the errors column still counts its failures).
    const clean = (r) => r.errors + r.non2xx === 0;
    const cpuOf = (rounds) => {
      const good = rounds.filter(clean);
      return good.length > 0 ? Math.round(median(good.map((r) => r.cpuUsPerRequest))) : undefined;
    };
    for (const name of measured) {
      const rounds = roundsOf[name];
      const { countTransactions, alongside, requestsPerUnit } = setup(name);
      results[name] = {
        requestsPerSecond: Math.round(median(rounds.map((r) => r.requestsPerSecond))),
        p50Ms: median(rounds.map((r) => r.p50)),
        p99Ms: median(rounds.map((r) => r.p99)),
        errors: rounds.reduce((sum, r) => sum + r.errors, 0),
        non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
        ...(name === 'baseline'
          ? {}
          : {
              apiCpuUsPerRequest: cpuOf(rounds),
              cpuUsPerRound: rounds.map((r) => Math.round(r.cpuUsPerRequest)),
            }),
        ...(countTransactions
          ? { transactionsPerRequest: Number(median(rounds.map((r) => r.txPerRequest)).toFixed(2)) }
          : {}),
        ...(requestsPerUnit > 1 ? { requestsPerUnit } : {}),
        ...(alongside
          ? {
              healthDuring: {
                p50Ms: median(rounds.map((r) => r.side.p50)),
                p99Ms: median(rounds.map((r) => r.side.p99)),
              },
            }
          : {}),
      };
    }
    // CPU per request against the floor doing the same work with nothing of the framework: the
    // ratio of each round (a route and its floor measured minutes apart at most), then the median.
    // A round whose floor used less than a clock tick of CPU (a very short run) has no ratio, nor
    // has one in which either side had a failed request (the cost of an error page is not the route's).
    const ratioOf = (routeRounds, floorRounds) => {
      const ratios = routeRounds
        .map((r, i) => (clean(r) && clean(floorRounds[i]) ? r.cpuUsPerRequest / floorRounds[i].cpuUsPerRequest : NaN))
        .filter((ratio) => Number.isFinite(ratio) && ratio > 0);
      return ratios.length > 0 ? Number(median(ratios).toFixed(2)) : undefined;
    };
    for (const [name, floor] of Object.entries(FLOOR_OF)) {
      if (roundsOf[name] && roundsOf[floor]) results[name].cpuVsFloor = ratioOf(roundsOf[name], roundsOf[floor]);
    }
    // The same pairs at one fixed request rate for both (--rate): at full speed a cheap floor runs
    // many times the requests of its route, so the two are measured under different loads (how many
    // requests share an event-loop turn, how much the load generator and PostgreSQL take from the
    // two cores); at an equal rate below the route's capacity they see the same arrivals. The api's
    // background work (the outbox poll, log flushes) is spread over fewer requests than at full
    // speed, which counts against the api.
    const equalRate = {};
    // `auto`: half of what the route served at full speed, so both stay well below their capacity.
    const rateOf = (name) => (options.rate === 'auto' ? Math.round(results[name].requestsPerSecond / 2) : options.rate);
    const pairs = Object.entries(FLOOR_OF).filter(
      ([name, floor]) => roundsOf[name] && roundsOf[floor] && options.rate !== 0 && rateOf(name) >= 1,
    );
    const atRate = Object.fromEntries(pairs.map(([name]) => [name, { route: [], floor: [], b: [] }]));
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, floor] of pairs) {
        // Which goes first alternates from round to round (the second api's twin, if any, in between).
        const sides = scenarios[twin(name)] ? ['route', 'b', 'floor'] : ['route', 'floor'];
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        const scenarioOf = { route: name, b: twin(name), floor };
        for (const side of order) atRate[name][side].push(await measure(scenarioOf[side], rateOf(name)));
      }
    }
    for (const [name, floor] of pairs) {
      const { route, floor: base } = atRate[name];
      equalRate[name] = {
        floor,
        rate: rateOf(name),
        requestsPerSecond: Math.round(median(route.map((r) => r.requestsPerSecond))),
        floorRequestsPerSecond: Math.round(median(base.map((r) => r.requestsPerSecond))),
        cpuUsPerRequest: cpuOf(route),
        floorCpuUsPerRequest: cpuOf(base),
        cpuVsFloor: ratioOf(route, base),
        ...(atRate[name].b.length > 0
          ? { b: { cpuUsPerRequest: cpuOf(atRate[name].b), bVsA: ratioOf(atRate[name].b, route) } }
          : {}),
        errors: [...route, ...base, ...atRate[name].b].reduce((sum, r) => sum + r.errors + r.non2xx, 0),
      };
    }
    // A/B: the second api's CPU per request against the first's, round by round (same round, minutes
    // apart at most), then the median; below 1, b is cheaper.
    const compare = apiB
      ? {
          env: options.compareEnv ?? {},
          nodeFlags: options.compareNodeFlags ?? [],
          entry: options.compareEntry,
          scenarios: Object.fromEntries(
            COMPARED.filter((name) => roundsOf[name]).map((name) => [
              name,
              {
                a: results[name].apiCpuUsPerRequest,
                b: results[twin(name)].apiCpuUsPerRequest,
                bVsA: ratioOf(roundsOf[twin(name)], roundsOf[name]),
                ...(equalRate[name]?.b
                  ? {
                      atRate: {
                        rate: equalRate[name].rate,
                        a: equalRate[name].cpuUsPerRequest,
                        b: equalRate[name].b.cpuUsPerRequest,
                        bVsA: equalRate[name].b.bVsA,
                      },
                    }
                  : {}),
              },
            ]),
          ),
        }
      : undefined;
    await stats.end();
    // Mail jobs end to end: a password-reset request writes an outbox row (the request job) in its
    // transaction; the relay publishes it to BullMQ; the worker looks the account up and writes the
    // mail job to the outbox, which goes the same way and is delivered to an SMTP server on loopback.
    let jobs;
    if (options.scenarios.includes('jobs')) {
      const arrivals = [];
      const seen = new Set();
      let duplicates = 0;
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, _session, callback) {
          let head = '';
          stream.on('data', (chunk) => {
            if (head.length < 4096) head += chunk.toString();
          });
          stream.on('end', () => {
            const messageId = /^message-id:\s*(\S+)/im.exec(head)?.[1] ?? `none-${arrivals.length}`;
            // Only the reset mails of this scenario (the seed's verification mail goes out too).
            if (!/^subject:.*reset/im.test(head)) {
              callback();
              return;
            }
            if (seen.has(messageId)) duplicates++;
            else {
              seen.add(messageId);
              arrivals.push(Date.now());
            }
            callback();
          });
        },
      });
      const smtpPort = await freePort();
      await new Promise((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
      const worker = await start(
        [WORKER_ENTRY],
        {
          ...appEnv,
          SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
          MAIL_FROM: 'Bench <bench@example.test>',
          LOG_LEVEL: 'info',
        },
        /worker ready/,
      );
      children.push(worker);
      const acknowledged = [];
      const startedAt = Date.now();
      let next = 0;
      const client = async () => {
        while (next < options.mails) {
          next++;
          const res = await fetch(`${base}/auth/forgot-password`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email }),
          });
          if (res.status !== 202) throw new Error(`forgot-password: ${res.status}`);
          acknowledged.push(Date.now());
        }
      };
      await Promise.all(Array.from({ length: options.connections }, () => client()));
      const deadline = Date.now() + 120_000;
      while (arrivals.length < options.mails && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // A second delivery of any mail would show up here.
      await new Promise((r) => setTimeout(r, 1_000));
      // Then one at a time, with nothing queued: the delay of the path itself (commit → relay →
      // BullMQ → worker → SMTP), not of a backlog.
      const burst = [...arrivals];
      const single = [];
      for (let i = 0; i < 20; i++) {
        const before = arrivals.length;
        const res = await fetch(`${base}/auth/forgot-password`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email }),
        });
        const at = Date.now();
        if (res.status !== 202) throw new Error(`forgot-password: ${res.status}`);
        while (arrivals.length === before && Date.now() - at < 10_000) await new Promise((r) => setTimeout(r, 2));
        single.push(arrivals.length > before ? arrivals[arrivals.length - 1] - at : 10_000);
      }
      await new Promise((resolve) => smtp.close(resolve));
      // Its mail server is gone: later scenarios start a worker of their own.
      worker.kill('SIGTERM');
      acknowledged.sort((a, b) => a - b);
      burst.sort((a, b) => a - b);
      const delays = acknowledged.slice(0, burst.length).map((at, i) => burst[i] - at);
      const percentile = (values, p) =>
        [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
      jobs = {
        mails: options.mails,
        delivered: burst.length,
        duplicates,
        seconds: Number(((burst[burst.length - 1] - startedAt) / 1000).toFixed(2)),
        jobsPerSecond: Math.round(burst.length / ((burst[burst.length - 1] - startedAt) / 1000)),
        requestsPerSecond: Math.round(options.mails / ((acknowledged[acknowledged.length - 1] - startedAt) / 1000)),
        acknowledgedToDeliveredMs: { p50: percentile(delays, 0.5), p99: percentile(delays, 0.99) },
        idleDeliveryMs: { p50: percentile(single, 0.5), max: Math.max(...single) },
      };
    }
    // Account-existence timing: does the answer take longer when the address has an account? Each
    // selected probe runs against the api as deployed (PostgreSQL, Redis, the worker answering the
    // jobs) and against the embedded default (PGlite, jobs in-process), with five registered accounts.
    const timingProbes = Object.keys(EXISTENCE_PROBES).filter((name) => options.scenarios.includes(name));
    let existence;
    if (timingProbes.length > 0) {
      const accounts = async (target, label) => {
        const emails = [];
        for (let i = 0; i < 5; i++) {
          const address = `bench-${label}-${i}-${database}@example.test`;
          const res = await fetch(`${target}/auth/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email: address, password }),
          });
          if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
          emails.push(address);
        }
        return emails;
      };
      existence = { probes: options.probes, results: [] };
      const runAll = async (target, apiLabel, existing) => {
        for (const name of timingProbes) {
          const probe = EXISTENCE_PROBES[name];
          existence.results.push({
            scenario: name,
            route: probe.label,
            api: apiLabel,
            ...(await existenceTiming(target, probe, existing, options.probes)),
          });
        }
      };
      const worker = await start([WORKER_ENTRY], { ...appEnv, LOG_LEVEL: 'info' }, /worker ready/);
      try {
        await runAll(base, 'PostgreSQL + Redis, worker running', await accounts(base, 'timing'));
      } finally {
        worker.kill('SIGTERM');
      }
      const embeddedPort = await freePort();
      const embedded = await start(
        [...apiFlags, API_ENTRY],
        {
          ...asDeployed.env,
          NODE_ENV: 'production',
          JWT_SECRET: appEnv.JWT_SECRET,
          MFA_ENCRYPTION_KEY: appEnv.MFA_ENCRYPTION_KEY,
          DATABASE_URL: undefined,
          REDIS_URL: undefined,
          EMBEDDED_DB_PATH: 'memory://',
          PORT: String(embeddedPort),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          // Hundreds of requests from one address, dozens to each account: over the limits otherwise.
          RATE_LIMIT_PER_MINUTE: '1000000000',
          AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
          LOCKOUT_THRESHOLD: '1000000000',
        },
        /api listening/,
      );
      try {
        const embeddedBase = `http://127.0.0.1:${embeddedPort}/api/v1`;
        await runAll(embeddedBase, 'embedded database, in-process jobs', await accounts(embeddedBase, 'embedded'));
      } finally {
        embedded.kill('SIGTERM');
      }
    }
    const events = options.scenarios.includes('events') ? measureEvents(adminUrl, redisUrl) : undefined;
    const baseline = results.baseline.requestsPerSecond;
    for (const result of Object.values(results))
      result.ratioToBaseline = Number((result.requestsPerSecond / baseline).toFixed(3));

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      api: { env: asDeployed.env, nodeFlags: asDeployed.nodeFlags },
      parameters: {
        duration: options.duration,
        rounds: options.rounds,
        warmup: options.warmup,
        connections: options.connections,
        rate: options.rate,
      },
      scenarios: results,
      equalRate,
      compare,
      jobs,
      accountExistenceTiming: existence,
      events,
      memory,
      targets: Object.fromEntries(
        Object.entries(TARGETS)
          .filter(([name]) => results[name])
          .map(([name, ratio]) => [name, { ratio, met: results[name].ratioToBaseline >= ratio }]),
      ),
    };
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const lines = [
      `# Benchmark (${report.date})`,
      '',
      `${report.machine.cpus} × ${report.machine.cpu}, Node ${report.machine.node}; ${options.connections} connections, as fast as they go; ${options.rounds} interleaved rounds of ${options.duration} s (every scenario once per round) after a ${options.warmup} s warm-up of each, median (× its floor: the median of the rounds' ratios).`,
      `The api runs as deployed: ${[...Object.entries(report.api.env).map(([k, v]) => `${k}=${v}`), ...report.api.nodeFlags].join(' ') || 'default settings'}.`,
      '',
      '| scenario | req/s | × baseline | p50 ms | p99 ms | CPU µs / request (serving process) | × its floor | DB transactions / request | errors + non-2xx |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...Object.entries(results).map(
        ([name, r]) =>
          `| ${name} | ${r.requestsPerSecond} | ${r.ratioToBaseline} | ${r.p50Ms} | ${r.p99Ms} | ${r.apiCpuUsPerRequest ?? ''} | ${r.cpuVsFloor ?? ''} | ${r.transactionsPerRequest ?? ''} | ${r.errors + r.non2xx} |`,
      ),
      '',
      "Floors (bench/floors.js, each alone in its process): `nest-floor` is bare NestJS + platform-fastify with one route, the floor of `health`; `me-floor` is bare Fastify + pg running the same statements as `me` (the api's own SQL texts), the floor of `me`; `teams-floor`, the same process running the statements of `teams`, is its floor.",
      '',
      ...(Object.keys(equalRate).length > 0
        ? [
            `A route and its floor at one request rate (${options.rate === 'auto' ? 'half of what the route served at full speed' : `${options.rate} req/s`}, the same for both; ${options.rounds} interleaved rounds of ${options.duration} s, median of the rounds' ratios; CPU µs per request of the serving process):`,
            '',
            '| route | its floor | rate asked | req/s served (route / floor) | route CPU µs / request | floor CPU µs / request | × its floor | errors + non-2xx |',
            '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
            ...Object.entries(equalRate).map(
              ([name, r]) =>
                `| ${name} | ${r.floor} | ${r.rate} | ${r.requestsPerSecond} / ${r.floorRequestsPerSecond} | ${r.cpuUsPerRequest} | ${r.floorCpuUsPerRequest} | ${r.cpuVsFloor ?? ''} | ${r.errors} |`,
            ),
            '',
          ]
        : []),
      ...(compare
        ? [
            `A/B: a second api ("b") with ${[...Object.entries(compare.env).map(([k, v]) => `${k}=${v}`), ...compare.nodeFlags, ...(compare.entry ? [`the build at ${compare.entry}`] : [])].join(' ')}, on the same database and Redis, its rounds interleaved with the first's; CPU µs per request, and the median of the rounds' b/a ratios (below 1: b is cheaper):`,
            '',
            '| route | a | b | b / a | at one rate: a | b | b / a |',
            '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
            ...Object.entries(compare.scenarios).map(
              ([name, r]) =>
                `| ${name} | ${r.a} | ${r.b} | ${r.bVsA ?? ''} | ${r.atRate?.a ?? ''} | ${r.atRate?.b ?? ''} | ${r.atRate?.bVsA ?? ''} |`,
            ),
            '',
          ]
        : []),
      ...(results.login?.healthDuring
        ? [
            `/health during the login storm: p50 ${results.login.healthDuring.p50Ms} ms, p99 ${results.login.healthDuring.p99Ms} ms.`,
            '',
          ]
        : []),
      ...(results['dashboard-graphql'] && results['dashboard-rest']
        ? [dashboardComparison(results['dashboard-graphql'], results['dashboard-rest']), '']
        : []),
      `api RSS: idle ${memory.idleMb} MB, under load ${memory.underLoadMb ?? 'n/a'} MB.`,
      '',
      ...(jobs
        ? [
            `Mail jobs (password-reset request → outbox → BullMQ → worker: account, token, mail job → outbox → BullMQ → worker → SMTP), ${jobs.mails} from ${options.connections} clients: ${jobs.delivered} delivered in ${jobs.seconds} s, ${jobs.jobsPerSecond} jobs/s through the worker (requests acknowledged at ${jobs.requestsPerSecond}/s); acknowledged → delivered p50 ${jobs.acknowledgedToDeliveredMs.p50} ms, p99 ${jobs.acknowledgedToDeliveredMs.p99} ms (a backlog builds when requests outrun the worker). One mail at a time, nothing queued: acknowledged → delivered p50 ${jobs.idleDeliveryMs.p50} ms, max ${jobs.idleDeliveryMs.max} ms.`,
            '',
          ]
        : []),
      ...(existence
        ? [
            `Account-existence timing: per route and api, ${existence.probes} requests in shuffled order (half to registered addresses, half to unknown ones), one at a time, timed at the client; medians in ms. A small p says the two groups differ.`,
            '',
            '| route | api | existing | unknown | difference | Mann–Whitney p |',
            '| --- | --- | ---: | ---: | ---: | ---: |',
            ...existence.results.map(
              (r) =>
                `| ${r.route} | ${r.api} | ${r.existingMedianMs} | ${r.unknownMedianMs} | ${r.differenceMs} | ${r.mannWhitneyP} |`,
            ),
            '',
          ]
        : []),
      ...(events
        ? [
            'Domain events out (bench/events.bench.ts; a loopback receiver answering 200):',
            '',
            '| what | embedded (PGlite, jobs in process) | PostgreSQL + Redis, one worker process |',
            '| --- | ---: | ---: |',
            `| webhook deliveries per second | ${events.embedded.deliveriesPerSecond} | ${events.worker.deliveriesPerSecond} |`,
            `| idle event-to-receiver latency p50 / p99 ms | ${events.embedded.idleP50Ms} / ${events.embedded.idleP99Ms} | ${events.worker.idleP50Ms} / ${events.worker.idleP99Ms} |`,
            '',
            `Embedded: ${events.embedded.how}. Worker: ${events.worker.how}. Open event streams: ${events.streams.open} on one api process, RSS ${events.streams.rssBeforeMiB} → ${events.streams.rssAfterMiB} MiB, ${events.streams.kibPerStream} KiB per stream.`,
            '',
          ]
        : []),
    ];
    const reportPath = join(options.out, 'report.md');
    let kept = '';
    try {
      const previous = readFileSync(reportPath, 'utf8');
      const at = previous.indexOf(KEEP_MARKER);
      if (at >= 0) kept = previous.slice(at + KEEP_MARKER.length);
      // A report without the marker is all hand-written: keep it whole below the new one.
      else kept = `\n\n${previous}`;
    } catch {
      // no earlier report
    }
    writeFileSync(reportPath, `${lines.join('\n')}\n${KEEP_MARKER}${kept}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await db.drop();
  }
}

// bench/gc-regimes.js borrows the process and load helpers.
module.exports = { API_ENTRY, apiEnvironment, asDeployed, cpuMs, freePort, freshDatabase, load, median, rssMb, start };

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    process.exit(1);
  });
}
