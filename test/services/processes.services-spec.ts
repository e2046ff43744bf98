import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, freePort, readServicesEnv, startProcess, type TestDatabase } from '@app/testing';

/** The built apps as an operator runs them: start-up, configuration errors, probes and shutdown. */
describe('api process', () => {
  const services = readServicesEnv();
  if (!services) throw new Error('run with npm run test:services');

  it('starts on the embedded database with no services, serves /health and /docs, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const listDir = mkdtempSync(join(tmpdir(), 'loaded-'));
    const loaded = join(listDir, 'packages.txt');
    const api = startProcess('api', {
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_DB_PATH: 'memory://',
      NODE_OPTIONS: `--require "${join(__dirname, '../support/loaded-packages.cjs')}"`,
      LOADED_PACKAGES_FILE: loaded,
    });
    try {
      await api.waitForOutput(/api listening/, 60_000);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(200);
      expect(api.output()).toMatch(/JWT_SECRET is not set/);
    } finally {
      expect(await api.stop('SIGTERM')).toBe(0);
    }
    // Heavy packages of rarely used paths stay on disk until their first use (docs/architecture.md).
    const modules = readFileSync(loaded, 'utf8').split('\n');
    rmSync(listDir, { recursive: true, force: true });
    const packages = new Set(modules.map((path) => /^(@[^/]+\/)?[^/]+/.exec(path)?.[0]));
    expect([...packages]).toEqual(expect.arrayContaining(['@nestjs/core', 'fastify', '@electric-sql/pglite']));
    for (const lazy of [
      '@node-saml/node-saml',
      'xml-crypto',
      'nodemailer',
      '@bull-board/api',
      '@bull-board/fastify',
      '@simplewebauthn/server',
      'qrcode',
      'pino-pretty',
      // Without REDIS_URL nothing uses the queue packages.
      'bullmq',
      '@nestjs/bullmq',
      'ioredis',
    ]) {
      expect(packages).not.toContain(lazy);
    }
    // The LLM layer maps openai's error classes (two small files); the client itself loads with the first call.
    expect(modules.filter((path) => path.startsWith('openai/'))).toEqual([
      'openai/core/error.js',
      'openai/internal/errors.js',
    ]);
  });

  it('finishes the requests in flight when SIGTERM arrives', async () => {
    const port = await freePort();
    // 12 parallel sign-ins of one account: above the default lockout threshold, which would refuse the excess.
    const api = startProcess('api', {
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_DB_PATH: 'memory://',
      LOCKOUT_THRESHOLD: '50',
      LOG_LEVEL: 'debug',
      // Twelve sign-ins from one address in a second: not what this test is about.
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      // One argon2 verify at a time, each twice the default work, so the twelve take well over the
      // 250 ms the log output may hold the "request received" lines back before the signal goes;
      // with four at a time on a fast machine, every answer was out before the signal.
      PASSWORD_HASH_CONCURRENCY: '1',
      ARGON2_TIME_COST: '4',
    });
    await api.waitForOutput(/api listening/, 60_000);
    const base = `http://127.0.0.1:${port}/api/v1/auth`;
    const headers = { 'content-type': 'application/json' };
    const body = JSON.stringify({ email: 'inflight@example.test', password: 'Tangerine-Vortex-Quill-8841' });
    expect((await fetch(`${base}/register`, { method: 'POST', headers, body })).status).toBe(201);
    // Each login spends an argon2 verify, one at a time: these take a while. Each goes on
    // its own connection, and SIGTERM is sent only once every request has been written out.
    const sent: Array<Promise<void>> = [];
    const finishedAt: number[] = [];
    const logins = Array.from({ length: 12 }, () => {
      let written!: () => void;
      sent.push(new Promise<void>((resolve) => (written = resolve)));
      return new Promise<number | string>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/api/v1/auth/login', method: 'POST', headers, agent: false },
          (res) => {
            res.resume();
            res.on('end', () => {
              finishedAt.push(Date.now());
              resolve(res.statusCode ?? 0);
            });
          },
        );
        req.on('error', (error) => resolve(`failed: ${error.message}`));
        req.end(body, written);
      });
    });
    await Promise.all(sent);
    // Wait until the server has taken in all twelve (its debug log says so), then signal.
    await api.waitForOutput(/("path":"\/api\/v1\/auth\/login","msg":"request received"[\s\S]*){12}/);
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    const statuses = await Promise.all(logins);
    // Some answers came after the signal: shutdown waited for them.
    expect(finishedAt.filter((at) => at > signalledAt).length).toBeGreaterThan(0);
    const exit = await api.exited;
    expect({ statuses, exit, output: exit === 0 ? '' : api.output().slice(-3000) }).toEqual({
      statuses: Array.from({ length: 12 }, () => 200),
      exit: 0,
      output: '',
    });
  });

  it('refuses to start on a bad variable and names it', async () => {
    const api = startProcess('api', { PORT: 'abc', EMBEDDED_DB_PATH: 'memory://' });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/PORT: must be a number/);
  });

  it('refuses to start in production without a long JWT_SECRET', async () => {
    const api = startProcess('api', { NODE_ENV: 'production', JWT_SECRET: 'short', EMBEDDED_DB_PATH: 'memory://' });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/JWT_SECRET: must be at least 32 characters/);
  });

  describe('on PostgreSQL', () => {
    let database: TestDatabase;

    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await database.drop();
    });

    it('is ready with Redis up and reports the failing component when Redis is unreachable', async () => {
      const port = await freePort();
      const deadRedis = await freePort();
      const api = startProcess('api', {
        ...database.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: `redis://127.0.0.1:${deadRedis}`,
      });
      try {
        await api.waitForOutput(/api listening/);
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(await res.json()).toMatchObject({ status: 503, checks: { database: 'up', redis: 'down' } });
        const db = await fetch(`http://127.0.0.1:${port}/api/v1/health/db`);
        expect(db.status).toBe(200);
        // Liveness does not depend on anything.
        expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
        // Sign-up and sign-in keep working without Redis (the mail is logged as not queued).
        const base = `http://127.0.0.1:${port}/api/v1/auth`;
        const credentials = JSON.stringify({ email: 'no-redis@example.test', password: 'Tangerine-Vortex-Quill-8841' });
        const headers = { 'content-type': 'application/json' };
        expect((await fetch(`${base}/register`, { method: 'POST', headers, body: credentials })).status).toBe(201);
        const login = await fetch(`${base}/login`, { method: 'POST', headers, body: credentials });
        expect(login.status).toBe(200);
        const { access_token } = (await login.json()) as { access_token: string };
        const me = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${access_token}` } });
        expect(me.status).toBe(200);
      } finally {
        expect(await api.stop('SIGTERM')).toBe(0);
      }
    });

    it('applies migrations to an empty database with the migrate command, then finds nothing to do', async () => {
      const name = `saas_test_${services.runId}_empty`;
      const admin = new Client({ connectionString: services.adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      const url = new URL(services.adminUrl);
      url.pathname = `/${name}`;
      try {
        const first = startProcess('api', { DATABASE_URL: url.toString() }, ['migrate']);
        expect(await first.exited).toBe(0);
        expect(first.output()).toMatch(/applied InitialSchema/);
        const second = startProcess('api', { DATABASE_URL: url.toString() }, ['migrate']);
        expect(await second.exited).toBe(0);
        expect(second.output()).toMatch(/database is up to date/);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      }
    });
  });
});
