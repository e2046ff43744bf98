// The baseline: a bare Fastify server answering a small JSON, the best this machine can do.
const fastify = require('fastify')({ logger: false });

fastify.get('/ping', async () => ({ status: 'ok' }));
fastify.listen({ port: Number(process.argv[2]), host: '127.0.0.1' }).then(() => process.stdout.write('ready\n'));
