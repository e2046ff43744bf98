// The baseline: a bare Fastify server answering a small JSON, the best this machine can do.
const fastify = require('fastify')({ logger: false });
// Stopped by the bench with SIGTERM: exit normally so flags like --cpu-prof write their output.
process.on('SIGTERM', () => process.exit(0));

fastify.get('/ping', async () => ({ status: 'ok' }));
fastify.listen({ port: Number(process.argv[2]), host: '127.0.0.1' }).then(() => process.stdout.write('ready\n'));
