import type { ExecutionContext, Type } from '@nestjs/common';

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
