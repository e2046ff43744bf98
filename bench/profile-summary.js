#!/usr/bin/env node
// node bench/profile-summary.js <file.cpuprofile> [top]: where a V8 CPU profile's busy time went, as
// Markdown: the top functions by self time and the packages they belong to, each as a share of the
// samples that were not idle. Take the profile with the bench, e.g.
//   BENCH_API_NODE_FLAGS="--cpu-prof --cpu-prof-dir=prof" node bench/bench.js --scenarios me-floor,me,teams-floor,teams
// (the api writes it when the bench stops it). V8's profiler samples on a wall clock: a function
// waiting for the CPU inside a system call (a socket write on a busy machine) counts while it waits.
const { readFileSync } = require('node:fs');

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 10);
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** The package a script belongs to: an npm package, a Node built-in module, or the app's own file. */
function packageOf(url) {
  if (!url) return '(V8 / native)';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/apps\/[^/]+\/((?:apps|libs)\/[^/]+)/.exec(url);
  if (own) return own[1];
  return url.replace(/^file:\/\//, '');
}

// Self time per node: the time deltas of the samples that landed on it.
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const byFunction = new Map();
const byPackage = new Map();
let busy = 0;
let idle = 0;
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  const special = functionName.startsWith('(') && !url;
  const name = special ? functionName : `${functionName || '(anonymous)'} (${packageOf(url)}:${lineNumber + 1})`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const pack = special ? functionName : packageOf(url);
  byPackage.set(pack, (byPackage.get(pack) ?? 0) + us);
}

const share = (us) => `${((100 * us) / busy).toFixed(1)} %`;
const table = (title, entries) => [
  `| ${title} | self time, share of busy samples |`,
  '| --- | ---: |',
  ...[...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => `| ${name.replace(/\|/g, '\\|')} | ${share(us)} |`),
];
const seconds = (us) => (us / 1e6).toFixed(1);
process.stdout.write(
  [
    `Busy ${seconds(busy)} s of ${seconds(busy + idle)} s sampled (${profile.samples.length} samples).`,
    '',
    ...table(`top ${top} functions`, byFunction),
    '',
    ...table(`top ${top} packages`, byPackage),
    '',
  ].join('\n'),
);
