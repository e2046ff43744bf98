import { AuditService } from '@app/audit';
import type { UserPrincipal } from '@app/auth';
import { newId } from '@app/common';
import { AppConfig } from '@app/config';
import { ScimToken, TenantTransaction } from '@app/database';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { CreatedScimTokenDto, SCIM_TOKEN_SHOWN, ScimTokenDto, type CreateScimTokenDto } from './dto/scim-token.dto';
import { generateScimToken } from './scim-access';

const MAX_LIVE_TOKENS = 5;

/** The SCIM base URL of an organization, as an IdP is configured with it. */
export function scimBaseUrl(config: AppConfig, orgId: string): string {
  return `${config.appUrl}/api/v1/organizations/${orgId}/scim/v2`;
}

/** An organization's SCIM tokens (scim:manage): made (shown once), listed, revoked; each change audited. */
@Injectable()
export class ScimTokensService {
  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
  ) {}

  async create(actor: UserPrincipal, orgId: string, dto: CreateScimTokenDto): Promise<CreatedScimTokenDto> {
    const { token, prefix, hash } = generateScimToken();
    const row = await this.transactions.run(orgId, async (manager) => {
      const live = await manager.countBy(ScimToken, { organizationId: orgId, revokedAt: IsNull() });
      if (live >= MAX_LIVE_TOKENS) {
        throw new ConflictException(
          `An organization has at most ${MAX_LIVE_TOKENS} live SCIM tokens: revoke one first.`,
        );
      }
      const entity = Object.assign(new ScimToken(), {
        id: newId(),
        organizationId: orgId,
        createdByUserId: actor.userId,
        name: dto.name,
        prefix,
        tokenHash: hash,
        lastUsedAt: null,
        revokedAt: null,
      });
      await manager.save(ScimToken, entity);
      await this.audit.change(
        manager,
        'scim.token.create',
        orgId,
        { actorId: actor.userId },
        ['scim_token', entity.id],
        {
          name: entity.name,
          prefix,
        },
      );
      return manager.findOneOrFail(ScimToken, { select: SCIM_TOKEN_SHOWN.select, where: { id: entity.id } });
    });
    return { ...ScimTokenDto.from(row), token, baseUrl: scimBaseUrl(this.config, orgId) };
  }

  list(orgId: string): Promise<ScimTokenDto[]> {
    return this.transactions.run(orgId, async (manager) =>
      (
        await manager.find(ScimToken, {
          select: SCIM_TOKEN_SHOWN.select,
          where: { organizationId: orgId },
          order: { createdAt: 'ASC' },
        })
      ).map((row) => ScimTokenDto.from(row)),
    );
  }

  /** Revoked at once: every SCIM request looks its token up in the database. */
  async revoke(actor: UserPrincipal, orgId: string, id: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const row = await manager.findOneBy(ScimToken, { id, organizationId: orgId });
      if (!row) throw new NotFoundException('No such SCIM token.');
      if (row.revokedAt) return;
      await manager.update(ScimToken, { id }, { revokedAt: new Date() });
      await this.audit.change(manager, 'scim.token.revoke', orgId, { actorId: actor.userId }, ['scim_token', id], {
        name: row.name,
        prefix: row.prefix,
      });
    });
  }
}
