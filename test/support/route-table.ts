import { IS_PUBLIC } from '@app/auth';
import { PLATFORM_ADMIN_ONLY, REQUIRED_PERMISSIONS } from '@app/rbac';
import { RequestMethod, type INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegisteredRoute {
  method: HttpMethod;
  controller: string;
  /** The path as declared, without the /api/v1 prefix: `/organizations/:orgId/teams`. */
  path: string;
  /** public, authenticated (any signed-in user, own data only), platform-admin, or `permissions: a, b`. */
  access: string;
  /** The route parameters, in path order. */
  params: string[];
}

/**
 * Every route the api registered, read from the controllers' metadata, so tests that walk the
 * routes (inventory, BOLA, role matrix) cover a new route without anyone listing it.
 */
export function registeredRoutes(app: INestApplication): RegisteredRoute[] {
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const routes: RegisteredRoute[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as Record<string, unknown> | undefined;
    if (!instance || !wrapper.metatype) continue;
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = (prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] as HttpMethod;
      const base = Reflect.getMetadata(PATH_METADATA, wrapper.metatype) as string;
      const targets = [handler, wrapper.metatype];
      const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true;
      const adminOnly = reflector.getAllAndOverride<boolean>(PLATFORM_ADMIN_ONLY, targets) === true;
      const permissions = reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, targets);
      const fullPath = `/${[base, path].filter((p) => p && p !== '/').join('/')}`;
      routes.push({
        method,
        controller: wrapper.metatype.name,
        path: fullPath,
        access: isPublic
          ? 'public'
          : adminOnly
            ? 'platform-admin'
            : permissions
              ? `permissions: ${permissions.join(', ')}`
              : 'authenticated',
        params: [...fullPath.matchAll(/:([A-Za-z]+)/g)].map((match) => match[1] ?? ''),
      });
    }
  }
  return routes.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
}

/** Fills a route's parameters from `ids`; throws naming a parameter nobody provided a value for. */
export function fillPath(route: RegisteredRoute, ids: Record<string, string>): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = ids[name];
    if (value === undefined)
      throw new Error(`no value for :${name} in ${route.method} ${route.path}: add it to the fixture`);
    return value;
  });
}
