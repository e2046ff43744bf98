import type { Principal } from '@app/auth';
import { AppConfig } from '@app/config';
import { refusalScope } from '@app/rbac';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type DocumentNode, type GraphQLSchema } from 'graphql';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuditLogsModule } from '../audit-logs/audit-logs.module';
import { IdentityModule } from '../auth/identity.module';
import { InvitationsModule } from '../invitations/invitations.module';
import { ProjectsModule } from '../projects/projects.module';
import { RolesModule } from '../roles/roles.module';
import { MembersModule } from '../members/members.module';
import { OrganizationsModule } from '../organizations/organizations.module';
import { RefusalRecorder } from '../security-events/refusal-recorder';
import { SecurityEventsModule } from '../security-events/security-events.module';
import { TeamsModule } from '../teams/teams.module';
import { errorFormatter, failedFields } from './errors';
import { assertAffordable, shapeLimits } from './limits';
import { persistedQueryOptions } from './persisted-queries';
import { weighRequest } from '../rate-limit/rate-limit.guard';
import { GRAPHQL_RESOLVERS } from './schema-file';
import { TenantScopeInterceptor } from './tenant-scope';

export const GRAPHQL_PATH = '/graphql';
const MAX_REFUSALS_RECORDED = 5;

export function graphqlOptions(config: AppConfig, refusals: RefusalRecorder): MercuriusDriverConfig {
  const log = new Logger('GraphQL');
  return {
    driver: MercuriusDriver,
    path: GRAPHQL_PATH,
    // Code first; the printed schema is committed as schema.graphql (npm run graphql:schema).
    autoSchemaFile: true,
    sortSchema: true,
    graphiql: config.graphql.graphiql,
    // Guards and interceptors on field resolvers too (Nest runs them on Query/Mutation fields only by default).
    fieldResolverEnhancers: ['guards', 'interceptors'],
    context: (request: FastifyRequest, reply: FastifyReply) => ({ req: request, reply }),
    // One operation per request: a batch would get around the per-request limits.
    allowBatchedQueries: false,
    // Parsed and validated documents are cached by their text: at most 512 of them, each at most
    // GRAPHQL_BODY_LIMIT_BYTES long (bootstrap sets the route's body limit).
    cache: 512,
    // A document longer than this many tokens is refused while parsing (an alias flood, say).
    graphql: { parseOptions: { maxTokens: config.graphql.maxTokens } },
    ...persistedQueryOptions(config.graphql),
    validationRules: [
      shapeLimits(config.graphql),
      ...(config.graphql.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    errorFormatter: errorFormatter(log),
    hooks: {
      // mercurius reads a query that does not parse as a JSON syntax tree: that would skip the
      // token limit, and a malformed tree could throw inside validation. Documents only.
      preValidation: (_schema: GraphQLSchema, document: DocumentNode) => {
        if (!document.loc) {
          throw new GraphQLError('The query must be a GraphQL document.', {
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          });
        }
      },
      // Cost needs the variables (a page size is often one), so it is checked after validation.
      preExecution: (
        schema: GraphQLSchema,
        document: DocumentNode,
        context: { reply: FastifyReply },
        variables: Record<string, unknown> | undefined,
      ) => {
        // The costliest operation of the document counts, whichever the request names.
        const cost = assertAffordable(schema, document, variables, config.graphql.maxCost);
        // What the operation counts against the caller's rate limit (before any field runs).
        weighRequest(context.reply.request, Math.max(1, Math.ceil(cost / config.graphql.costPerRequest)));
      },
      // Refusals are recorded as REST's are (audit row, security event) before the answer leaves.
      onResolution: async (_execution: unknown, context: { reply: FastifyReply }) => {
        const request = context.reply.request as FastifyRequest & { principal?: Principal };
        const principal = request.principal;
        if (!principal) return;
        // One record per (organization, field, problem), at most MAX_REFUSALS_RECORDED a request:
        // a list of a hundred refused fields is one refusal, not a hundred audit rows.
        const seen = new Set<string>();
        for (const { exception } of failedFields(context)) {
          const scope = refusalScope(exception);
          if (!scope) continue;
          const key = `${scope.organizationId ?? ''}|${scope.field}|${exception.constructor.name}|${exception.message}`;
          if (seen.has(key) || seen.size >= MAX_REFUSALS_RECORDED) continue;
          seen.add(key);
          try {
            await refusals.recordGraphqlRefusal(request, principal, exception, scope.organizationId, scope.field);
          } catch (failure) {
            log.warn(`could not record a refusal: ${failure instanceof Error ? failure.message : String(failure)}`);
          }
        }
      },
    },
  } as MercuriusDriverConfig;
}

/**
 * GraphQL at /graphql beside REST, on the same guards, permission catalogue, services and tenant
 * transactions (see docs/graphql.md). Off with GRAPHQL_ENABLED=false.
 */
@Module({})
export class GraphqlApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (!config.graphql.enabled) return { module: GraphqlApiModule };
    return {
      module: GraphqlApiModule,
      imports: [
        IdentityModule,
        OrganizationsModule,
        MembersModule,
        TeamsModule,
        RolesModule,
        ProjectsModule,
        InvitationsModule,
        ApiKeysModule,
        AuditLogsModule,
        SecurityEventsModule,
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          imports: [SecurityEventsModule],
          inject: [AppConfig, RefusalRecorder],
          useFactory: graphqlOptions,
        }),
      ],
      providers: [TenantScopeInterceptor, ...GRAPHQL_RESOLVERS],
    };
  }
}
