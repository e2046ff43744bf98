import type { ExecutionContext, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

type Handler = (...args: never[]) => unknown;

/**
 * Route metadata read once per (controller class, handler) and kept: what decorators say about a
 * route does not change after start, so guards need not walk the Reflector on every request.
 * Keyed by the class too, because a handler inherited from a base controller (TenantResources)
 * is the same function under controllers whose class-level metadata differs.
 */
export function routeMetadata<T>(read: (handler: Handler, controller: Type) => T): (context: ExecutionContext) => T {
  const byController = new WeakMap<Type, WeakMap<Handler, T>>();
  return (context) => {
    const controller = context.getClass();
    const handler = context.getHandler() as Handler;
    let byHandler = byController.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      byController.set(controller, byHandler);
    }
    if (byHandler.has(handler)) return byHandler.get(handler) as T;
    const value = read(handler, controller);
    byHandler.set(handler, value);
    return value;
  };
}

/**
 * A Reflector whose `getAllAndOverride(key, [handler, controller])` answers from a cache after the
 * first call, for library guards that look metadata up on every request (@nestjs/throttler's
 * does six lookups per limit). Only for decorator metadata, which is fixed once the app starts.
 */
export class StaticRouteReflector extends Reflector {
  private readonly cache = new Map<unknown, WeakMap<object, WeakMap<object, unknown>>>();

  override getAllAndOverride<TResult = unknown, TKey = unknown>(
    metadataKey: TKey,
    targets: (Type | ((...args: never[]) => unknown))[],
  ): TResult {
    const [handler, controller] = targets;
    if (targets.length !== 2 || !handler || !controller) return super.getAllAndOverride(metadataKey, targets);
    let byHandler = this.cache.get(metadataKey);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.cache.set(metadataKey, byHandler);
    }
    let byController = byHandler.get(handler);
    if (!byController) {
      byController = new WeakMap();
      byHandler.set(handler, byController);
    }
    if (byController.has(controller)) return byController.get(controller) as TResult;
    const value = super.getAllAndOverride<TResult, TKey>(metadataKey, targets);
    byController.set(controller, value);
    return value;
  }
}
