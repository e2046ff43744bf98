import { MetricsModule, RequestContextModule } from '@app/common';
import { AuditModule } from '@app/audit';
import { AuthenticationGuard, AuthModule } from '@app/auth';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { EventsModule } from '@app/events';
import { JobsModule } from '@app/jobs';
import { LlmModule } from '@app/llm';
import { MailModule } from '@app/mail';
import { QueueModule } from '@app/queue';
import { AuthorizationGuard, RbacModule } from '@app/rbac';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_GUARD, RouterModule } from '@nestjs/core';
import { AccountModule } from './account/account.module';
import { IdentityModule } from './auth/identity.module';
import { ImpersonationGuard } from './auth/impersonation.guard';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuditLogsModule } from './audit-logs/audit-logs.module';
import { InvitationsModule } from './invitations/invitations.module';
import { OAuthModule } from './oauth/oauth.module';
import { RATE_LIMIT_PROVIDERS, RateLimitGuard } from './rate-limit/rate-limit.guard';
import { MembersModule } from './members/members.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { RolesModule } from './roles/roles.module';
import { TeamsModule } from './teams/teams.module';
import { JobsAdminModule } from './jobs-admin/jobs-admin.module';
import { DependenciesModule } from './dependencies/dependencies.module';
import { LlmApiModule } from './llm/llm.module';
import { ProjectsModule } from './projects/projects.module';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { SecurityEventsModule } from './security-events/security-events.module';
import { SsoModule } from './sso/sso.module';
import { ScimModule } from './scim/scim.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { EventsStreamModule } from './events-stream/events-stream.module';
import { GraphqlApiModule } from './graphql/graphql-api.module';
// generate:resource imports (npm run generate:resource adds lines above these markers)
import { WellKnownModule } from './auth/well-known.module';
import { HealthModule } from './health/health.module';
import { LivenessModule } from './health/liveness.module';

/** Feature modules served under /api/v1. Add a new feature here. */
export const API_V1_MODULES: Type[] = [
  HealthModule,
  IdentityModule,
  AccountModule,
  OrganizationsModule,
  MembersModule,
  TeamsModule,
  RolesModule,
  InvitationsModule,
  ApiKeysModule,
  OAuthModule,
  AuditLogsModule,
  JobsAdminModule,
  ProjectsModule,
  LlmApiModule,
  DependenciesModule,
  QueueBoardModule,
  SecurityEventsModule,
  SsoModule,
  ScimModule,
  WebhooksModule,
  EventsStreamModule,
  // generate:resource modules
];

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig, extraModules: Type[] = []): DynamicModule {
    const v1Modules = [...API_V1_MODULES, ...extraModules];
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        // The request's context is opened by a Fastify hook (see openRequestContext in bootstrap).
        RequestContextModule,
        DatabaseModule.forRoot({ applicationName: 'api' }),
        QueueModule.forRoot(config),
        MailModule,
        LlmModule,
        JobsModule,
        EventsModule,
        AuditModule,
        AuthModule,
        RbacModule,
        LivenessModule,
        WellKnownModule,
        ...v1Modules,
        RouterModule.register([{ path: 'api/v1', children: v1Modules }]),
        GraphqlApiModule.forRoot(config),
      ],
      // Deny by default, in this order: who is calling, how often, then what they may do where.
      providers: [
        ...RATE_LIMIT_PROVIDERS,
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_GUARD, useClass: ImpersonationGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: AuthorizationGuard },
      ],
    };
  }
}
