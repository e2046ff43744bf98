import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Public } from '@app/auth';
import { UuidParam } from '@app/common';
import { IsEmail, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { createTestApp, type TestApp } from '@app/testing';

class EchoDto {
  @IsEmail()
  email!: string;

  @IsString()
  @MaxLength(50)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  count?: number;
}

/** A probe controller for the framework's HTTP building blocks (pipes, filter, guard). */
@Controller('probe')
class ProbeController {
  @Public()
  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Public()
  @Get('things/:thingId')
  thing(@UuidParam('thingId') thingId: string): { id: string } {
    return { id: thingId };
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail: SELECT * FROM users');
  }

  @Get('private')
  private(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const PROBLEM = /^application\/problem\+json/;

describe('HTTP basics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ modules: [ProbeModule] });
  });
  afterAll(async () => {
    await t.close();
  });

  describe('health', () => {
    it('answers liveness at /health', async () => {
      const res = await t.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    });

    it('answers readiness with each dependency', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/health' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok', checks: { database: 'up' } });
    });

    it('answers the database probe', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/health/db' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok', checks: { database: 'up' } });
    });
  });

  describe('request id', () => {
    it('generates one when none is sent', async () => {
      const res = await t.inject({ method: 'GET', url: '/health' });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('echoes a well-formed one', async () => {
      const res = await t.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123.trace:1' } });
      expect(res.headers['x-request-id']).toBe('abc-123.trace:1');
    });

    it('replaces one that could inject into logs', async () => {
      const res = await t.inject({
        method: 'GET',
        url: '/health',
        headers: { 'x-request-id': 'evil\u0007value with spaces' },
      });
      expect(res.headers['x-request-id']).not.toContain('evil');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('errors are problem+json', () => {
    it('unknown route: 404', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/does-not-exist?x=1' });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        instance: '/api/v1/does-not-exist',
      });
    });

    it('malformed JSON: 400', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/probe/echo',
        headers: { 'content-type': 'application/json' },
        payload: '{"email": "a@b.c", ',
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.json()).toMatchObject({ type: '/problems/malformed-json', status: 400 });
    });

    it('wrong content type: 415', async () => {
      for (const contentType of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/probe/echo',
          headers: { 'content-type': contentType },
          payload: 'email=a@b.c',
        });
        expect(res.statusCode).toBe(415);
        expect(res.headers['content-type']).toMatch(PROBLEM);
        expect(res.json()).toMatchObject({ type: '/problems/unsupported-media-type', status: 415 });
      }
    });

    it('body over BODY_LIMIT_BYTES: 413', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/probe/echo',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ email: 'a@b.c', name: 'x'.repeat(t.config.bodyLimitBytes) }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ type: '/problems/payload-too-large', status: 413 });
    });

    it('validation: names each field and reason', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/probe/echo',
        payload: { email: 'not-an-email', name: 42, count: '3' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      const body = res.json<{ type: string; errors: Array<{ field: string; message: string }> }>();
      expect(body.type).toBe('/problems/validation-error');
      const fields = body.errors.map((error) => error.field).sort();
      expect(fields).toEqual(expect.arrayContaining(['count', 'email', 'name']));
      expect(body.errors.find((error) => error.field === 'email')?.message).toMatch(/email/);
    });

    it('unknown fields (mass assignment) are refused, not ignored', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/probe/echo',
        payload: { email: 'a@example.com', name: 'Ann', isPlatformAdmin: true },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: Array<{ field: string }> }>().errors).toEqual([
        { field: 'isPlatformAdmin', message: 'isPlatformAdmin is not an accepted field' },
      ]);
    });

    it('a JSON array or scalar instead of an object is a 400, not a 500', async () => {
      for (const payload of ['[]', '"text"', '42', 'null']) {
        const res = await t.inject({
          method: 'POST',
          url: '/api/v1/probe/echo',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM);
      }
    });

    it('valid input passes through', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/api/v1/probe/echo',
        payload: { email: 'a@example.com', name: 'Ann', count: 2 },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ email: 'a@example.com', name: 'Ann', count: 2 });
    });

    it('non-UUID id: 400 naming the parameter', async () => {
      const bad = await t.inject({ method: 'GET', url: "/api/v1/probe/things/1'%20OR%201=1" });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ errors: [{ field: 'thingId', message: 'thingId must be a UUID' }] });
      const good = await t.inject({ method: 'GET', url: '/api/v1/probe/things/0195d2a0-7b1c-7c3e-8a4b-1234567890ab' });
      expect(good.statusCode).toBe(200);
    });

    it('unexpected errors: 500 without message, stack or SQL', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/probe/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body).not.toMatch(/secret|SELECT|at .*\.ts/);
      expect(res.json()).toMatchObject({ status: 500, title: 'Internal Server Error' });
    });
  });

  describe('deny by default', () => {
    it('refuses a route that is not @Public() without credentials', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/probe/private' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(PROBLEM);
    });
  });

  describe('API documentation', () => {
    it('serves Swagger UI, the OpenAPI document and ReDoc', async () => {
      const ui = await t.inject({ method: 'GET', url: '/docs' });
      expect(ui.statusCode).toBe(200);
      expect(ui.body).toContain('swagger');
      const doc = await t.inject({ method: 'GET', url: '/openapi.json' });
      expect(doc.statusCode).toBe(200);
      const paths = Object.keys(doc.json<{ paths: Record<string, unknown> }>().paths);
      expect(paths).toEqual(expect.arrayContaining(['/health', '/api/v1/health', '/api/v1/health/db']));
      const redoc = await t.inject({ method: 'GET', url: '/redoc' });
      expect(redoc.statusCode).toBe(200);
      expect(redoc.body).toContain('spec-url="/openapi.json"');
      const bundle = await t.inject({ method: 'GET', url: '/redoc/redoc.standalone.js' });
      expect(bundle.statusCode).toBe(200);
      expect(bundle.headers['content-type']).toMatch(/javascript/);
    });
  });
});
