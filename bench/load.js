// Runs one autocannon load in its own process (so the load generator does not share an event
// loop with anything it measures) and prints a JSON summary on stdout.
const autocannon = require('autocannon');

const options = JSON.parse(process.argv[2]);
autocannon(options, (error, result) => {
  if (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    JSON.stringify({
      requestsPerSecond: result.requests.average,
      total: result.requests.total,
      p50: result.latency.p50,
      p99: result.latency.p99,
      // autocannon counts a timeout in `errors` as well as in `timeouts`: counted once here.
      errors: result.errors,
      non2xx: result.non2xx,
    }),
  );
});
