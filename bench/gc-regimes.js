#!/usr/bin/env node
// npm run bench:processes: the api's CPU per request, and its highest resident set while loaded,
// measured in several fresh processes per variant of node flags, because one process's figure is not
// the build's. A process settles into one of two
// garbage-collection regimes that differ by up to two times (bench/report.md, "two costs for one
// build"); which one depends on what the process went through, an idle spell in particular. Each
// process here is started, warmed up, left idle, then loaded: the variants' processes alternate, so
// a drift of the machine reaches them alike. Prints one line per process and a summary per variant.
//
// Options: --variants 'deployed|--flag-a|--flag-b --flag-c' (deployed, then each variant's flags after
//          the deployed ones) --processes n (4 per variant) --idle s (30) --duration s (5) --warmup s (3)
//          --routes health,me (both) --connections n (16) --out file.json (none)
// Environment: BENCH_ADMIN_URL, BENCH_REDIS_URL as for bench/bench.js.
const { writeFileSync } = require('node:fs');
const {
  API_ENTRY,
  apiEnvironment,
  asDeployed,
  cpuMs,
  freePort,
  freshDatabase,
  load,
  median,
  rssMb,
  start,
} = require('./bench');

function parseArgs(argv) {
  const options = {
    variants: ['deployed'],
    processes: 4,
    idle: 30,
    duration: 5,
    warmup: 3,
    routes: ['health', 'me'],
    connections: 16,
    out: undefined,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i]?.replace(/^--/, ''), argv[i + 1]];
    if (name === 'variants') {
      options.variants = (value ?? '').split('|').map((variant) => variant.trim());
      for (const variant of options.variants) {
        if (variant !== 'deployed' && !flagsOf(variant).every((flag) => flag.startsWith('--')))
          throw new Error(`--variants: '${variant}' is neither 'deployed' nor a list of --flags`);
      }
    } else if (name === 'routes') {
      options.routes = (value ?? '').split(',');
      if (!options.routes.every((route) => ['health', 'me'].includes(route)))
        throw new Error('--routes takes health, me or both');
    } else if (name === 'out') options.out = value;
    else if (Object.hasOwn(options, name) && /^\d+$/.test(value ?? '')) options[name] = Number(value);
    else throw new Error(`unknown option or bad value: --${name} ${value ?? ''}`);
  }
  return options;
}

const flagsOf = (variant) => (variant === 'deployed' ? [] : variant.split(/\s+/).filter(Boolean));
const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const db = await freshDatabase();
  let child;
  try {
    const port = await freePort();
    const env = apiEnvironment(db, port);
    const base = `http://127.0.0.1:${port}`;
    const email = `regimes-${db.database}@example.test`;
    const password = 'Tangerine-Vortex-Quill-8841';
    const post = async (path, body) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const targets = {
      health: () => ({ url: `${base}/health` }),
      me: (token) => ({ url: `${base}/api/v1/users/me`, headers: { authorization: `Bearer ${token}` } }),
    };
    const runs = [];
    process.stdout.write(
      `${options.processes} processes per variant; each: ${options.warmup} s warm-up per route, ${options.idle} s idle, ` +
        `then ${options.duration} s of each route at full speed (${options.connections} connections)\n`,
    );
    for (let index = 0; index < options.processes; index++) {
      // Which variant goes first alternates from one process to the next.
      const order = index % 2 === 0 ? options.variants : [...options.variants].reverse();
      for (const variant of order) {
        child = await start([...asDeployed.nodeFlags, ...flagsOf(variant), API_ENTRY], env, /api listening/);
        if (index === 0 && variant === order[0]) await post('/auth/register', { email, password });
        const { access_token: token } = await post('/auth/login', { email, password });
        for (const route of options.routes) {
          await load({ ...targets[route](token), connections: options.connections, duration: options.warmup });
        }
        await pause(options.idle);
        const cpu = {};
        // The highest resident set seen while loaded (sampled every 100 ms).
        let rss = 0;
        const sampler = setInterval(() => {
          rss = Math.max(rss, rssMb(child.pid) ?? 0);
        }, 100);
        try {
          for (const route of options.routes) {
            const before = cpuMs(child.pid);
            const result = await load({
              ...targets[route](token),
              connections: options.connections,
              duration: options.duration,
            });
            if (result.errors + result.non2xx > 0)
              throw new Error(`${route}: ${result.errors + result.non2xx} failures`);
            cpu[route] = Math.round(((cpuMs(child.pid) - before) * 1000) / result.total);
          }
        } finally {
          clearInterval(sampler);
        }
        const exited = child.exitCode !== null || child.signalCode !== null;
        if (!exited) {
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await gone;
        }
        child = undefined;
        runs.push({ variant, index, cpuUsPerRequest: cpu, peakRssMb: rss });
        process.stdout.write(
          `${variant.padEnd(48)} #${index + 1}  ${options.routes.map((route) => `${route} ${cpu[route]} µs`).join('  ')}  RSS ${rss} MB\n`,
        );
      }
    }
    process.stdout.write('\nper variant, CPU µs per request and peak RSS under load: median [every process]\n');
    for (const variant of options.variants) {
      const mine = runs.filter((run) => run.variant === variant);
      const summary = options.routes.map((route) => {
        const values = mine.map((run) => run.cpuUsPerRequest[route]);
        return `${route} ${median(values)} [${values.join(', ')}]`;
      });
      const rss = mine.map((run) => run.peakRssMb);
      summary.push(`peak RSS MB ${median(rss)} [${rss.join(', ')}]`);
      process.stdout.write(`${variant.padEnd(48)} ${summary.join('   ')}\n`);
    }
    if (options.out) writeFileSync(options.out, JSON.stringify({ options, deployed: asDeployed, runs }, null, 2));
  } finally {
    child?.kill('SIGTERM');
    await pause(0.5);
    await db.drop();
  }
}

main().catch((error) => {
  process.stderr.write(`gc-regimes failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
