// The floors the api's CPU per request is measured against, each alone in its own process:
//   node bench/floors.js nest <port>  bare NestJS + platform-fastify with one route, GET /health
//                                     answering what the api's liveness route answers
//   node bench/floors.js pg <port>    bare Fastify + pg running, for GET /me, exactly the statements
//                                     the api runs for GET /api/v1/users/me: the unit of work's
//                                     opening statement, the profile SELECT, COMMIT (DATABASE_URL,
//                                     BENCH_USER_ID). The SQL texts are the api's own (imported from
//                                     the build), so the two cannot drift apart. With BENCH_ORG_ID,
//                                     also GET /teams: the statements of GET /api/v1/organizations/
//                                     :orgId/teams (a tenant unit of work's opening, the page with its
//                                     window count, COMMIT), its first page of 20.
require('reflect-metadata');
const { join } = require('node:path');

const DIST = join(__dirname, '..', 'dist', 'apps', 'api');
const [kind, port] = [process.argv[2], Number(process.argv[3])];
// The bench stops a floor with SIGTERM: exit normally so flags like --cpu-prof write their output.
process.on('SIGTERM', () => process.exit(0));

async function nest() {
  const { Controller, Get, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { FastifyAdapter } = require('@nestjs/platform-fastify');
  class HealthController {
    liveness() {
      return { status: 'ok' };
    }
  }
  Get()(
    HealthController.prototype,
    'liveness',
    Object.getOwnPropertyDescriptor(HealthController.prototype, 'liveness'),
  );
  Controller('health')(HealthController);
  class FloorModule {}
  Module({ controllers: [HealthController] })(FloorModule);
  const app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false });
  await app.listen(port, '127.0.0.1');
}

async function pg() {
  const { Pool } = require('pg');
  const { openUnitOfWorkSql } = require(join(DIST, 'libs/database/src/tenant-sql.js'));
  const { OWN_PROFILE_SQL } = require(join(DIST, 'apps/api/src/users/own-profile-sql.js'));
  const { TEAM_PAGE_SQL } = require(join(DIST, 'apps/api/src/teams/team-page-sql.js'));
  const [userId, orgId] = [process.env.BENCH_USER_ID, process.env.BENCH_ORG_ID];
  if (!userId) throw new Error('BENCH_USER_ID is required');
  // The api's pool size by default (DATABASE_POOL_SIZE).
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  // One unit of work: its opening statement, `work` on the connection, COMMIT.
  const unitOfWork = async (open, work) => {
    const client = await pool.connect();
    try {
      await client.query(open);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  const fastify = require('fastify')({ logger: false });
  const system = openUnitOfWorkSql({ organizationId: null, system: true });
  fastify.get('/me', () =>
    unitOfWork(system, async (client) => (await client.query(OWN_PROFILE_SQL, [userId])).rows[0]),
  );
  if (orgId) {
    const tenant = openUnitOfWorkSql({ organizationId: orgId, system: false });
    fastify.get('/teams', () =>
      unitOfWork(tenant, async (client) => {
        const { rows } = await client.query(TEAM_PAGE_SQL, [orgId, 20, 0]);
        const total = rows.length > 0 ? Number(rows[0].__total) : 0;
        return { items: rows.map(({ __total: _, ...team }) => team), total, page: 1, pageSize: 20 };
      }),
    );
  }
  await fastify.listen({ port, host: '127.0.0.1' });
}

(kind === 'nest' ? nest() : kind === 'pg' ? pg() : Promise.reject(new Error(`unknown floor ${kind}`))).then(
  () => process.stdout.write('ready\n'),
  (error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  },
);
