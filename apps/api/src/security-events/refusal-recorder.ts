import { AuditService, SecurityEvents } from '@app/audit';
import { auditActor, confinedTo, type Principal } from '@app/auth';
import {
  isUuid,
  problemType,
  routeUrlOf,
  sentProblem,
  toProblem,
  type ProblemDetails,
  type SentProblem,
} from '@app/common';
import { TenantTransaction, type SecurityEventKind } from '@app/database';
import { NotAMemberException } from '@app/rbac';
import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The 403s that refuse access itself (not a business rule such as an expired invitation). */
const ACCESS_REFUSALS = new Set(
  ['permission-denied', 'platform-admin-required', 'api-key-not-allowed', 'sso-required'].map((slug) =>
    problemType(slug),
  ),
);

type Refusal = { kind: SecurityEventKind; audited: boolean };

/**
 * The one place refusals are recorded, whichever layer raised them (the authorization guard, a
 * service's no-escalation check, a resource's team check): a Fastify onSend hook looks at the
 * problem the request was answered with.
 *
 * - A 403 that refuses access writes `access.denied` to the organization's audit log (with the
 *   missing permissions) and counts a `permission-denied` security event.
 * - A signed-in caller answered 404 for an organization they do not belong to counts a
 *   `cross-tenant-probe` security event (no audit row: that organization's log is not theirs to fill).
 *
 * The row is written before the response leaves; the refused work itself has rolled back by then.
 */
@Injectable()
export class RefusalRecorder {
  private readonly logger = new Logger('Refusals');

  constructor(
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly events: SecurityEvents,
  ) {}

  install(fastify: FastifyInstance): void {
    fastify.addHook('onSend', (request, _reply, payload, done) => {
      const sent = sentProblem(request);
      const principal = (request as { principal?: Principal }).principal;
      const refusal = sent && principal ? classify(sent) : undefined;
      if (!sent || !principal || !refusal) {
        done(null, payload);
        return;
      }
      const routeOrg = (request.params as { orgId?: string } | undefined)?.orgId;
      const route = `${request.method} ${routeUrlOf(request) ?? request.url.split('?')[0]}`;
      this.record(request, principal, sent.problem, refusal, routeOrg, route).then(
        () => done(null, payload),
        (error: unknown) => {
          // The refusal stands either way; losing its record is logged, never turned into a 500.
          this.logger.warn(`could not record a refusal: ${error instanceof Error ? error.message : String(error)}`);
          done(null, payload);
        },
      );
    });
  }

  /**
   * A refusal GraphQL answered as an error of one field (the operation's other fields may still
   * have data): recorded as a REST refusal is, the field named in place of the route.
   */
  async recordGraphqlRefusal(
    request: FastifyRequest,
    principal: Principal,
    exception: unknown,
    organizationId: string | undefined,
    field: string,
  ): Promise<void> {
    const { problem } = toProblem(exception, undefined);
    const refusal = classify({ problem, exception });
    if (!refusal) return;
    const path = routeUrlOf(request) ?? request.url.split('?')[0] ?? '/graphql';
    await this.record(request, principal, problem, refusal, organizationId, `${request.method} ${path} ${field}`);
  }

  private async record(
    request: FastifyRequest,
    principal: Principal,
    problem: ProblemDetails,
    refusal: Refusal,
    routeOrg: string | undefined,
    route: string,
  ): Promise<void> {
    const organizationId = routeOrg && isUuid(routeOrg) ? routeOrg : (confinedTo(principal) ?? null);
    const actor = auditActor(principal);
    await this.transactions.runAsSystem(async (manager) => {
      if (refusal.audited) {
        const missing = problem.missingPermissions;
        await this.audit.record(
          {
            action: 'access.denied',
            outcome: 'denied',
            organizationId,
            ...actor,
            targetType: 'route',
            targetId: route.slice(0, 100),
            metadata: {
              ...(Array.isArray(missing) ? { missingPermissions: missing } : {}),
              problem: problem.type.replace('/problems/', ''),
            },
          },
          manager,
        );
      }
      await this.events.count(manager, {
        kind: refusal.kind,
        ...actor,
        organizationId,
        route,
        ip: request.ip,
      });
    });
  }
}

function classify({ problem, exception }: SentProblem): Refusal | undefined {
  if (problem.status === 403 && ACCESS_REFUSALS.has(problem.type)) return { kind: 'permission-denied', audited: true };
  if (exception instanceof NotAMemberException) return { kind: 'cross-tenant-probe', audited: false };
  return undefined;
}
