import type { Principal } from '@app/auth';
import { AppConfig } from '@app/config';
import { refusalScope } from '@app/rbac';
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ExecutionResult } from 'graphql';
import { IdentityModule } from '../auth/identity.module';
import { MembersModule } from '../members/members.module';
import { OrganizationsModule } from '../organizations/organizations.module';
import { RefusalRecorder } from '../security-events/refusal-recorder';
import { SecurityEventsModule } from '../security-events/security-events.module';
import { TeamsModule } from '../teams/teams.module';
import { errorFormatter } from './errors';
import { operationLimits } from './limits';
import { OrganizationResolver } from './organization.resolver';
import { TeamResolver } from './team.resolver';
import { TenantScopeInterceptor } from './tenant-scope';
import { ViewerResolver } from './viewer.resolver';

export const GRAPHQL_PATH = '/graphql';

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
    validationRules: [
      operationLimits(config.graphql),
      ...(config.graphql.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ],
    errorFormatter: errorFormatter(log),
    hooks: {
      // Refusals are recorded as REST's are (audit row, security event) before the answer leaves.
      onResolution: async (execution: Pick<ExecutionResult, 'errors'>, context: { reply: FastifyReply }) => {
        const request = context.reply.request as FastifyRequest & { principal?: Principal };
        const principal = request.principal;
        if (!principal || !execution.errors) return;
        for (const error of execution.errors) {
          const original = error.originalError;
          if (!original || original instanceof GraphQLError) continue;
          try {
            await refusals.recordGraphqlRefusal(
              request,
              principal,
              original,
              refusalScope(original),
              error.path?.join('.') ?? 'operation',
            );
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
        SecurityEventsModule,
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          imports: [SecurityEventsModule],
          inject: [AppConfig, RefusalRecorder],
          useFactory: graphqlOptions,
        }),
      ],
      providers: [TenantScopeInterceptor, ViewerResolver, OrganizationResolver, TeamResolver],
    };
  }
}
