import { IS_PUBLIC } from '@app/auth';
import { PLATFORM_ADMIN_ONLY, REQUIRED_PERMISSIONS } from '@app/rbac';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RequestMethod } from '@nestjs/common';
import { createTestApp, type TestApp } from '@app/testing';

interface RouteAccess {
  route: string;
  /** public, authenticated (any signed-in user, own data only), platform-admin, or the permissions it needs in :orgId. */
  access: string;
}

/**
 * Every route of the api with how it is guarded. The global guard denies anything not @Public(),
 * so a route is never open by accident; the snapshot makes each change of exposure visible in review.
 */
describe('route inventory', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function inventory(): RouteAccess[] {
    const discovery = t.app.get(DiscoveryService);
    const scanner = t.app.get(MetadataScanner);
    const reflector = t.app.get(Reflector);
    const routes: RouteAccess[] = [];
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || !wrapper.metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
        const base = Reflect.getMetadata(PATH_METADATA, wrapper.metatype) as string;
        const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, wrapper.metatype]) === true;
        const permissions = reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, [
          handler,
          wrapper.metatype,
        ]);
        const adminOnly =
          reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN_ONLY, [handler, wrapper.metatype]) === true;
        routes.push({
          route: `${method} ${wrapper.metatype.name}: /${[base, path].filter((p) => p && p !== '/').join('/')}`,
          access: isPublic
            ? 'public'
            : adminOnly
              ? 'platform-admin'
              : permissions
                ? `permissions: ${permissions.join(', ')}`
                : 'authenticated',
        });
      }
    }
    return routes.sort((a, b) => a.route.localeCompare(b.route));
  }

  it('lists every route with its access rule', () => {
    expect(inventory()).toMatchSnapshot();
  });

  it('scopes every route under /organizations/:orgId by a permission', () => {
    for (const { route, access } of inventory()) {
      if (route.includes(':orgId')) expect(`${route} -> ${access}`).toMatch(/ -> permissions: /);
    }
  });

  it('keeps everything but sign-in entry points and probes behind authentication', () => {
    const publicRoutes = inventory()
      .filter((r) => r.access === 'public')
      .map((r) => r.route);
    for (const route of publicRoutes) {
      expect(route).toMatch(
        /^GET (Health|Liveness|Jwks)Controller|^POST (Auth|Mfa)Controller: \/auth\/(register|login|login\/mfa|refresh|verify-email|forgot-password|reset-password)$/,
      );
    }
  });

  it('really refuses every non-public route without a token', async () => {
    const authenticated = inventory().filter((r) => r.access !== 'public');
    expect(authenticated.length).toBeGreaterThan(0);
    for (const { route } of authenticated) {
      const [method = 'GET', , path = '/'] = route.split(' ');
      const url = `/api/v1${path.replace(/:[A-Za-z]+/g, '0195d2a0-7b1c-7c3e-8a4b-1234567890ab')}`;
      const res = await t.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
      expect({ route, status: res.statusCode }).toEqual({ route, status: 401 });
    }
  });

  it('documents every operation in OpenAPI with its authentication and its error responses', async () => {
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json<{
      paths: Record<
        string,
        Record<string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }>
      >;
    }>();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
    );
    expect(operations.length).toBe(inventory().length);
    for (const { route, operation } of operations) {
      expect({ route, hasSecurity: Array.isArray(operation.security) }).toEqual({ route, hasSecurity: true });
      const isPublic = operation.security?.some((requirement) => Object.keys(requirement).length === 0);
      if (!isPublic) {
        expect({ route, documents401: '401' in operation.responses }).toEqual({ route, documents401: true });
      }
    }
  });
});
