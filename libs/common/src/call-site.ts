import type { ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The parts of a GraphQL resolver call the guards read (a structural subset of graphql's types). */
export interface GraphqlCall {
  /** The parent object (absent for Query and Mutation fields). */
  root: Record<string, unknown> | undefined;
  args: Record<string, unknown>;
  request: FastifyRequest;
  reply: FastifyReply | undefined;
  /** One object per field resolution: guards and the resolver see the same one. */
  info: { fieldName: string; parentType: { name: string } };
}

/** How a guarded call came in: a REST route, a GraphQL field, or something the guards leave alone. */
export function callKind(context: ExecutionContext): 'http' | 'graphql' | undefined {
  const type = context.getType<string>();
  return type === 'http' || type === 'graphql' ? type : undefined;
}

/**
 * A GraphQL resolver call as Nest hands it to guards: `[root, args, context, info]`, the context
 * being the driver's (`{ req, reply }` under Mercurius). Read without importing @nestjs/graphql,
 * so the libraries stay free of it.
 */
export function graphqlCall(context: ExecutionContext): GraphqlCall {
  const [root, args, ctx, info] =
    context.getArgs<
      [
        Record<string, unknown> | undefined,
        Record<string, unknown> | undefined,
        Record<string, unknown>,
        GraphqlCall['info'],
      ]
    >();
  const request = ctx.req as FastifyRequest | undefined;
  if (!request) throw new Error('The GraphQL context carries no request (ctx.req).');
  return {
    root: root ?? undefined,
    args: args ?? {},
    request,
    reply: (ctx.reply as FastifyReply | undefined) ?? undefined,
    info,
  };
}

/** The Fastify request of a REST or GraphQL call. */
export function requestOf(context: ExecutionContext): FastifyRequest {
  return callKind(context) === 'graphql' ? graphqlCall(context).request : context.switchToHttp().getRequest();
}

/** "Query.organization", "Team.members": how a GraphQL field is named in audit rows and errors. */
export function graphqlFieldName(call: GraphqlCall): string {
  return `${call.info.parentType.name}.${call.info.fieldName}`;
}

const ROUTE_URL = Symbol('routeUrl');

/**
 * The route pattern a request matched (`/api/v1/organizations/:orgId`), undefined when none did.
 * Fastify's `request.routeOptions` builds a new object of a dozen fields on every read, and the
 * access log, the metrics and the guards each want the pattern: it is read once and kept on the
 * request. Only once the adapter has routed it for good (a guard, onSend, onResponse): before that,
 * the Nest adapter may still hand the request to the 404 handler (an empty route parameter), which
 * changes the route it matched.
 */
export function routeUrlOf(request: FastifyRequest): string | undefined {
  const kept = request as FastifyRequest & { [ROUTE_URL]?: string | null };
  const url = kept[ROUTE_URL];
  if (url !== undefined) return url ?? undefined;
  const read = request.routeOptions.url;
  kept[ROUTE_URL] = read ?? null;
  return read;
}
