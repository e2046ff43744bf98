import { AuditService } from '@app/audit';
import { SecretBox, type UserPrincipal } from '@app/auth';
import {
  fetchOutbound,
  newId,
  OutboundRefused,
  ProblemException,
  requestOutbound,
  ValidationProblemException,
  type FieldError,
} from '@app/common';
import { AppConfig } from '@app/config';
import { Organization, OrganizationDomain, RoleAssignment, SsoConnection, TenantTransaction } from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { parseIdpMetadata, SamlRefusal } from '@app/sso';
import { ConflictException, HttpStatus, Injectable, NotFoundException } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { IsNull, type EntityManager } from 'typeorm';
import { MembersService } from '../members/members.service';
import { describeCertificates, toPem } from './certificates';
import { DomainVerifier, verificationRecord } from './domain-verifier';
import {
  DomainDto,
  type CreateDomainDto,
  type CreateSsoConnectionDto,
  type SsoConnectionDto,
  type SsoEnforcementDto,
  type UpdateSsoConnectionDto,
} from './dto/sso.dto';
import { connectionUrls } from './sso-urls';
import { findShown, shown, type ShownRow } from '../common/shown-fields';

/** What a connection's view shows and reads: never its sealed OIDC client secret. */
const SSO_CONNECTION_SHOWN = shown<SsoConnection>()(
  'id',
  'organizationId',
  'type',
  'name',
  'enabled',
  'idpEntityId',
  'idpSsoUrl',
  'idpCertificates',
  'oidcIssuer',
  'oidcClientId',
  'oidcScopes',
  'allowIdpInitiated',
  'defaultRoleId',
  'roleMappings',
  'teamMappings',
  'createdAt',
  'updatedAt',
);

const MAX_CONNECTIONS = 10;
const MAX_DOMAINS = 50;

/**
 * An organization's single sign-on set-up (`sso:manage`): its SAML connections and the domains
 * it proves by DNS. Every change is audited in the organization's log.
 */
@Injectable()
export class SsoAdminService {
  private readonly box: SecretBox;

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly audit: AuditService,
    private readonly members: MembersService,
    private readonly verifier: DomainVerifier,
    private readonly permissions: PermissionResolver,
  ) {
    this.box = sealingBox(config);
  }

  async createConnection(actor: UserPrincipal, orgId: string, dto: CreateSsoConnectionDto): Promise<SsoConnectionDto> {
    const type = dto.type ?? 'saml';
    const id = newId();
    let idp: Partial<SsoConnection>;
    if (type === 'oidc') {
      idp = await this.oidcSettings(id, dto, undefined);
    } else {
      refuseFields(dto, OIDC_FIELDS, 'an OpenID Connect');
      await this.fetchMetadata(dto);
      idp = this.idpSettings(dto, undefined);
    }
    const row = await this.transactions.run(orgId, async (manager) => {
      if ((await manager.countBy(SsoConnection, { organizationId: orgId })) >= MAX_CONNECTIONS) {
        throw new ConflictException(`An organization has at most ${MAX_CONNECTIONS} connections.`);
      }
      await this.checkRoles(manager, actor, orgId, dto);
      const entity = Object.assign(new SsoConnection(), {
        id,
        organizationId: orgId,
        type,
        name: dto.name,
        enabled: true,
        idpEntityId: null,
        idpSsoUrl: null,
        oidcIssuer: null,
        oidcClientId: null,
        oidcClientSecret: null,
        oidcScopes: null,
        ...idp,
        allowIdpInitiated: dto.allowIdpInitiated ?? false,
        defaultRoleId: dto.defaultRoleId ?? null,
        roleMappings: dto.roleMappings ?? [],
        teamMappings: dto.teamMappings ?? [],
      });
      await manager.save(SsoConnection, entity);
      await this.record(manager, actor, orgId, 'sso.connection.create', ['sso_connection', entity.id], {
        name: entity.name,
        type,
        ...(type === 'oidc' ? { oidcIssuer: entity.oidcIssuer } : { idpEntityId: entity.idpEntityId }),
      });
      return manager.findOneOrFail(SsoConnection, { select: SSO_CONNECTION_SHOWN.select, where: { id: entity.id } });
    });
    await this.permissions.invalidate(orgId);
    return this.view(row);
  }

  listConnections(orgId: string): Promise<SsoConnectionDto[]> {
    return this.transactions.run(orgId, async (manager) => {
      const rows = await manager.find(SsoConnection, {
        select: SSO_CONNECTION_SHOWN.select,
        where: { organizationId: orgId },
        order: { createdAt: 'ASC' },
      });
      return rows.map((row) => this.view(row));
    });
  }

  getConnection(orgId: string, id: string): Promise<SsoConnectionDto> {
    return this.transactions.run(orgId, async (manager) =>
      this.view(await findShown(manager, SsoConnection, SSO_CONNECTION_SHOWN, orgId, id, 'No such connection.')),
    );
  }

  async updateConnection(
    actor: UserPrincipal,
    orgId: string,
    id: string,
    dto: UpdateSsoConnectionDto,
  ): Promise<SsoConnectionDto> {
    const before = await this.transactions.run(orgId, (manager) => this.findConnection(manager, orgId, id));
    let idp: Partial<SsoConnection>;
    if (before.type === 'oidc') {
      idp = await this.oidcSettings(id, dto, before);
    } else {
      refuseFields(dto, OIDC_FIELDS, 'an OpenID Connect');
      await this.fetchMetadata(dto);
      idp = this.idpSettings(dto, before);
    }
    const row = await this.transactions.run(orgId, async (manager) => {
      await this.findConnection(manager, orgId, id);
      await this.checkRoles(manager, actor, orgId, dto);
      const changes: Partial<SsoConnection> = {
        ...idp,
        ...(dto.name !== undefined ? { name: dto.name } : {}),
        ...(dto.enabled !== undefined ? { enabled: dto.enabled } : {}),
        ...(dto.allowIdpInitiated !== undefined ? { allowIdpInitiated: dto.allowIdpInitiated } : {}),
        ...(dto.defaultRoleId !== undefined ? { defaultRoleId: dto.defaultRoleId } : {}),
        ...(dto.roleMappings !== undefined ? { roleMappings: dto.roleMappings } : {}),
        ...(dto.teamMappings !== undefined ? { teamMappings: dto.teamMappings } : {}),
      };
      await manager.update(SsoConnection, { id }, changes);
      // Field names only: never the secret's value.
      await this.record(manager, actor, orgId, 'sso.connection.update', ['sso_connection', id], {
        fields: Object.keys(dto),
      });
      return manager.findOneOrFail(SsoConnection, { select: SSO_CONNECTION_SHOWN.select, where: { id } });
    });
    await this.permissions.invalidate(orgId);
    return this.view(row);
  }

  async deleteConnection(actor: UserPrincipal, orgId: string, id: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const row = await this.findConnection(manager, orgId, id);
      await manager.delete(SsoConnection, { id: row.id });
      await this.record(manager, actor, orgId, 'sso.connection.delete', ['sso_connection', id], { name: row.name });
    });
    await this.permissions.invalidate(orgId);
  }

  async addDomain(actor: UserPrincipal, orgId: string, dto: CreateDomainDto): Promise<DomainDto> {
    const row = await this.transactions.run(orgId, async (manager) => {
      if ((await manager.countBy(OrganizationDomain, { organizationId: orgId })) >= MAX_DOMAINS) {
        throw new ConflictException(`An organization claims at most ${MAX_DOMAINS} domains.`);
      }
      if (await manager.existsBy(OrganizationDomain, { organizationId: orgId, domain: dto.domain })) {
        throw new ConflictException('This organization already claims this domain.');
      }
      const entity = Object.assign(new OrganizationDomain(), {
        id: newId(),
        organizationId: orgId,
        domain: dto.domain,
        verificationToken: randomBytes(16).toString('hex'),
        verifiedAt: null,
        lastCheckedAt: null,
      });
      await manager.save(OrganizationDomain, entity);
      await this.record(manager, actor, orgId, 'sso.domain.add', ['organization_domain', entity.id], {
        domain: entity.domain,
      });
      return manager.findOneByOrFail(OrganizationDomain, { id: entity.id });
    });
    return this.domainView(row);
  }

  listDomains(orgId: string): Promise<DomainDto[]> {
    return this.transactions.run(orgId, async (manager) => {
      const rows = await manager.find(OrganizationDomain, {
        where: { organizationId: orgId },
        order: { createdAt: 'ASC' },
      });
      return rows.map((row) => this.domainView(row));
    });
  }

  /**
   * Looks the TXT record up now. Verified: the domain routes its people to this organization's
   * connections. Absent: 409 with the record to publish. DNS unreachable: 503.
   */
  async verifyDomain(actor: UserPrincipal, orgId: string, id: string): Promise<DomainDto> {
    const row = await this.transactions.run(orgId, (manager) => this.findDomain(manager, orgId, id));
    if (row.verifiedAt) return this.domainView(row);
    const result = await this.verifier.check(row.domain, row.verificationToken);
    if (result === 'unreachable') {
      throw new ProblemException({
        status: HttpStatus.SERVICE_UNAVAILABLE,
        slug: 'dns-unavailable',
        title: 'Service Unavailable',
        detail: 'DNS did not answer; try again shortly.',
        headers: { 'retry-after': '30' },
      });
    }
    const updated = await this.transactions.run(orgId, async (manager) => {
      const checkedAt = new Date();
      if (result === 'absent') {
        await manager.update(OrganizationDomain, { id }, { lastCheckedAt: checkedAt });
        return undefined;
      }
      // Another organization proved it first: the unique index on verified domains says so.
      const taken = await manager.query<unknown[]>(
        `SELECT 1 FROM organization_domains WHERE domain = $1 AND verified_at IS NOT NULL AND id <> $2`,
        [row.domain, id],
      );
      if (taken.length > 0) throw new ConflictException('Another organization has verified this domain.');
      await manager.update(OrganizationDomain, { id }, { verifiedAt: checkedAt, lastCheckedAt: checkedAt });
      await this.record(manager, actor, orgId, 'sso.domain.verify', ['organization_domain', id], {
        domain: row.domain,
      });
      return manager.findOneByOrFail(OrganizationDomain, { id });
    });
    if (!updated) {
      const record = verificationRecord(row.domain, row.verificationToken);
      throw new ProblemException({
        status: HttpStatus.CONFLICT,
        slug: 'domain-not-verified',
        title: 'Conflict',
        detail: `No TXT record ${record.name} with the value ${record.value} was found; publish it and try again.`,
        extensions: { txtRecord: record },
      });
    }
    await this.permissions.invalidate(orgId);
    return this.domainView(updated);
  }

  async deleteDomain(actor: UserPrincipal, orgId: string, id: string): Promise<void> {
    await this.transactions.run(orgId, async (manager) => {
      const row = await this.findDomain(manager, orgId, id);
      await manager.delete(OrganizationDomain, { id });
      await this.record(manager, actor, orgId, 'sso.domain.delete', ['organization_domain', id], {
        domain: row.domain,
      });
    });
    await this.permissions.invalidate(orgId);
  }

  async enforcement(orgId: string): Promise<SsoEnforcementDto> {
    const organization = await this.transactions.run(orgId, (manager) =>
      manager.findOneByOrFail(Organization, { id: orgId }),
    );
    return { enforced: organization.ssoEnforced, breakGlassUserId: organization.ssoBreakGlassUserId };
  }

  /**
   * Turns enforcement on or off. On needs an enabled connection and a verified domain, a
   * break-glass user who is an owner, and must not shut out the person switching it on: they sign
   * in through the organization's SSO, are the break-glass owner, or are outside its domains.
   */
  async setEnforcement(actor: UserPrincipal, orgId: string, dto: SsoEnforcementDto): Promise<SsoEnforcementDto> {
    await this.transactions.run(orgId, async (manager) => {
      const organization = await manager.findOneByOrFail(Organization, { id: orgId });
      const breakGlassUserId =
        dto.breakGlassUserId !== undefined ? dto.breakGlassUserId : organization.ssoBreakGlassUserId;
      if (dto.enforced) {
        const connections = await manager.find(SsoConnection, { where: { organizationId: orgId, enabled: true } });
        const verified = await manager.query<Array<{ domain: string }>>(
          'SELECT domain FROM organization_domains WHERE organization_id = $1 AND verified_at IS NOT NULL',
          [orgId],
        );
        if (connections.length === 0 || verified.length === 0) {
          throw conflict('sso-not-ready', 'Enforcing needs an enabled connection and a verified domain first.');
        }
        if (breakGlassUserId && !(await this.isOwner(manager, orgId, breakGlassUserId))) {
          throw new ValidationProblemException([
            { field: 'breakGlassUserId', message: 'breakGlassUserId must be an owner of the organization' },
          ]);
        }
        const me = await manager.query<Array<{ email: string }>>('SELECT email FROM users WHERE id = $1', [
          actor.userId,
        ]);
        const myDomain = me[0]?.email.split('@')[1]?.toLowerCase();
        const viaSso =
          actor.authMethod.startsWith('sso:') && connections.some((c) => c.id === actor.authMethod.slice(4));
        const inDomain = verified.some((row) => row.domain === myDomain);
        if (inDomain && !viaSso && breakGlassUserId !== actor.userId) {
          throw conflict(
            'would-lock-you-out',
            'You would lose access yourself: sign in through the connection first, or name yourself break-glass.',
          );
        }
      }
      await manager.update(
        Organization,
        { id: orgId },
        { ssoEnforced: dto.enforced, ssoBreakGlassUserId: breakGlassUserId ?? null },
      );
      await this.record(
        manager,
        actor,
        orgId,
        dto.enforced ? 'sso.enforcement.on' : 'sso.enforcement.off',
        ['organization', orgId],
        {
          breakGlassUserId: breakGlassUserId ?? null,
        },
      );
    });
    await this.permissions.invalidate(orgId);
    return this.enforcement(orgId);
  }

  private async isOwner(manager: EntityManager, orgId: string, userId: string): Promise<boolean> {
    return manager.existsBy(RoleAssignment, {
      organizationId: orgId,
      userId,
      roleId: SYSTEM_ROLES.owner.id,
      teamId: IsNull(),
    });
  }

  /**
   * `metadataUrl` becomes `metadataXml`: fetched before any transaction opens, through the
   * outbound guard (no private addresses unless allowed, no redirects, 5 s, 1 MiB).
   */
  private async fetchMetadata(dto: CreateSsoConnectionDto | UpdateSsoConnectionDto): Promise<void> {
    if (dto.metadataUrl === undefined) return;
    if (dto.metadataXml !== undefined) {
      throw new ValidationProblemException([
        { field: 'metadataUrl', message: 'send metadataUrl or metadataXml, not both' },
      ]);
    }
    try {
      dto.metadataXml = await fetchOutbound(dto.metadataUrl, {
        allowPrivate: this.config.sso.metadataAllowPrivate,
        httpsOnly: this.config.isProduction,
        timeoutMs: 5_000,
        maxBytes: 1024 * 1024,
      });
    } catch (error) {
      if (!(error instanceof OutboundRefused)) throw error;
      throw new ValidationProblemException([
        { field: 'metadataUrl', message: `metadataUrl could not be fetched (${error.reason})` },
      ]);
    }
  }

  /** The IdP fields of a create or update: metadata XML first, explicit fields over it, then checked. */
  private idpSettings(
    dto: CreateSsoConnectionDto | UpdateSsoConnectionDto,
    current: SsoConnection | undefined,
  ): Partial<Pick<SsoConnection, 'idpEntityId' | 'idpSsoUrl' | 'idpCertificates'>> {
    let fromMetadata: { entityId: string; ssoUrl: string; certificates: string[] } | undefined;
    if (dto.metadataXml !== undefined) {
      try {
        fromMetadata = parseIdpMetadata(dto.metadataXml);
      } catch (error) {
        const reason = error instanceof SamlRefusal ? error.code : 'malformed';
        throw new ValidationProblemException([
          { field: 'metadataXml', message: `metadataXml is not usable IdP metadata (${reason})` },
        ]);
      }
    }
    const idpEntityId = dto.idpEntityId ?? fromMetadata?.entityId ?? current?.idpEntityId;
    const idpSsoUrl = dto.idpSsoUrl ?? fromMetadata?.ssoUrl ?? current?.idpSsoUrl;
    const certificates = (dto.idpCertificates ?? fromMetadata?.certificates ?? current?.idpCertificates ?? []).map(
      toPem,
    );
    const missing = [
      ...(idpEntityId ? [] : [{ field: 'idpEntityId', message: 'idpEntityId is needed (or metadataXml)' }]),
      ...(idpSsoUrl ? [] : [{ field: 'idpSsoUrl', message: 'idpSsoUrl is needed (or metadataXml)' }]),
      ...(certificates.length > 0
        ? []
        : [{ field: 'idpCertificates', message: 'at least one signing certificate is needed (or metadataXml)' }]),
    ];
    if (missing.length > 0) throw new ValidationProblemException(missing);
    const expired = describeCertificates(certificates).flatMap((certificate, index) =>
      certificate.expired
        ? [{ field: `idpCertificates[${index}]`, message: `expired on ${certificate.notAfter.toISOString()}` }]
        : [],
    );
    if (expired.length > 0) throw new ValidationProblemException(expired);
    const changed = dto.metadataXml !== undefined || dto.idpEntityId !== undefined;
    return {
      ...(changed || !current ? { idpEntityId } : {}),
      ...(changed || dto.idpSsoUrl !== undefined || !current ? { idpSsoUrl } : {}),
      ...(changed || dto.idpCertificates !== undefined || !current ? { idpCertificates: certificates } : {}),
    };
  }

  /**
   * The OpenID Connect fields of a create or update: issuer, client id and secret required on
   * create; the issuer's discovery document fetched now through the outbound guard and its
   * `issuer` compared with the one given (OpenID Connect Discovery 1.0 §4.3); the secret sealed to
   * this connection's id.
   */
  private async oidcSettings(
    id: string,
    dto: CreateSsoConnectionDto | UpdateSsoConnectionDto,
    current: SsoConnection | undefined,
  ): Promise<Partial<SsoConnection>> {
    refuseFields(dto, SAML_FIELDS, 'a SAML');
    const issuer = (dto.oidcIssuer ?? current?.oidcIssuer ?? undefined)?.replace(/\/+$/, '');
    const missing: FieldError[] = [
      ...(issuer ? [] : [{ field: 'oidcIssuer', message: 'oidcIssuer is needed for an OpenID Connect connection' }]),
      ...((dto.oidcClientId ?? current?.oidcClientId)
        ? []
        : [{ field: 'oidcClientId', message: 'oidcClientId is needed for an OpenID Connect connection' }]),
      ...((dto.oidcClientSecret ?? current?.oidcClientSecret)
        ? []
        : [{ field: 'oidcClientSecret', message: 'oidcClientSecret is needed for an OpenID Connect connection' }]),
    ];
    // A new issuer never gets the old secret: it would be sent to the new issuer's token endpoint.
    if (
      current &&
      dto.oidcIssuer !== undefined &&
      issuer !== current.oidcIssuer &&
      dto.oidcClientSecret === undefined
    ) {
      missing.push({
        field: 'oidcClientSecret',
        message: 'oidcClientSecret must be given again with a new oidcIssuer',
      });
    }
    if (missing.length > 0 || !issuer) throw new ValidationProblemException(missing);
    if (dto.oidcIssuer !== undefined) await this.checkIssuer(issuer);
    return {
      ...(dto.oidcIssuer !== undefined || !current ? { oidcIssuer: issuer } : {}),
      ...(dto.oidcClientId !== undefined ? { oidcClientId: dto.oidcClientId } : {}),
      ...(dto.oidcClientSecret !== undefined
        ? { oidcClientSecret: this.box.seal(dto.oidcClientSecret, secretContext(id)) }
        : {}),
      ...(dto.oidcScopes !== undefined ? { oidcScopes: dto.oidcScopes } : {}),
    };
  }

  private async checkIssuer(issuer: string): Promise<void> {
    const refuse = (why: string) =>
      new ValidationProblemException([{ field: 'oidcIssuer', message: `oidcIssuer could not be used (${why})` }]);
    let document: unknown;
    try {
      const response = await requestOutbound(
        `${issuer}/.well-known/openid-configuration`,
        { headers: { accept: 'application/json' } },
        {
          allowPrivate: this.config.sso.metadataAllowPrivate,
          httpsOnly: this.config.isProduction,
          timeoutMs: 5_000,
          maxBytes: 256 * 1024,
        },
      );
      if (response.status !== 200) throw refuse(`discovery answered ${response.status}`);
      document = JSON.parse(response.body.toString('utf8'));
    } catch (error) {
      if (error instanceof ValidationProblemException) throw error;
      if (error instanceof OutboundRefused) throw refuse(error.reason);
      throw refuse('discovery is not JSON');
    }
    const found = (document as { issuer?: unknown } | null)?.issuer;
    if (typeof found !== 'string' || found.replace(/\/+$/, '') !== issuer) {
      throw refuse('the discovery document names another issuer');
    }
  }

  /** Provisioned members get these roles: the admin setting it up must be able to grant them. */
  private async checkRoles(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    dto: CreateSsoConnectionDto | UpdateSsoConnectionDto,
  ): Promise<void> {
    const roleIds = [
      ...(dto.defaultRoleId ? [dto.defaultRoleId] : []),
      ...(dto.roleMappings ?? []).flatMap((mapping) => mapping.roleIds),
    ];
    await this.members.assertGrantable(manager, actor.userId, orgId, [...new Set(roleIds)]);
    // Teams people are put in must be this organization's.
    const teamIds = [...new Set((dto.teamMappings ?? []).flatMap((mapping) => mapping.teamIds))];
    if (teamIds.length > 0) {
      const found = await manager.query<Array<{ id: string }>>(
        'SELECT id FROM teams WHERE id = ANY($1) AND organization_id = $2',
        [teamIds, orgId],
      );
      const unknown = teamIds.filter((id) => !found.some((row) => row.id === id));
      if (unknown.length > 0) {
        throw new ValidationProblemException([
          { field: 'teamMappings', message: `no such team in this organization: ${unknown.join(', ')}` },
        ]);
      }
    }
  }

  private async findConnection(manager: EntityManager, orgId: string, id: string): Promise<SsoConnection> {
    const row = await manager.findOneBy(SsoConnection, { id, organizationId: orgId });
    if (!row) throw new NotFoundException('No such connection.');
    return row;
  }

  private async findDomain(manager: EntityManager, orgId: string, id: string): Promise<OrganizationDomain> {
    const row = await manager.findOneBy(OrganizationDomain, { id, organizationId: orgId });
    if (!row) throw new NotFoundException('No such domain.');
    return row;
  }

  private view(row: ShownRow<typeof SSO_CONNECTION_SHOWN>): SsoConnectionDto {
    const urls = connectionUrls(this.config, row.id);
    const saml = row.type === 'saml';
    return {
      id: row.id,
      organizationId: row.organizationId,
      type: row.type,
      name: row.name,
      enabled: row.enabled,
      idpEntityId: row.idpEntityId,
      idpSsoUrl: row.idpSsoUrl,
      idpCertificates: describeCertificates(row.idpCertificates),
      oidcIssuer: row.oidcIssuer,
      oidcClientId: row.oidcClientId,
      oidcScopes: row.oidcScopes,
      allowIdpInitiated: row.allowIdpInitiated,
      defaultRoleId: row.defaultRoleId,
      roleMappings: row.roleMappings,
      teamMappings: row.teamMappings,
      spEntityId: saml ? urls.spEntityId : null,
      acsUrl: saml ? urls.acsUrl : null,
      redirectUri: saml ? null : urls.redirectUri,
      loginUrl: urls.loginUrl,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  private domainView(row: OrganizationDomain): DomainDto {
    return DomainDto.from(row, verificationRecord(row.domain, row.verificationToken));
  }

  private record(
    manager: EntityManager,
    actor: UserPrincipal,
    orgId: string,
    action: string,
    target: [string, string],
    metadata: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.change(manager, action, orgId, { actorId: actor.userId }, target, metadata);
  }
}

const SAML_FIELDS = [
  'metadataXml',
  'metadataUrl',
  'idpEntityId',
  'idpSsoUrl',
  'idpCertificates',
  'allowIdpInitiated',
] as const;
const OIDC_FIELDS = ['oidcIssuer', 'oidcClientId', 'oidcClientSecret', 'oidcScopes'] as const;

/** A field of the other type of connection is a mistake worth naming, not something to ignore. */
function refuseFields(
  dto: CreateSsoConnectionDto | UpdateSsoConnectionDto,
  fields: readonly (keyof CreateSsoConnectionDto & keyof UpdateSsoConnectionDto)[],
  kind: string,
): void {
  const present = fields.filter((field) => dto[field] !== undefined);
  if (present.length > 0) {
    throw new ValidationProblemException(
      present.map((field) => ({ field, message: `${field} belongs to ${kind} connection` })),
    );
  }
}

/** The secret box for connection secrets, and what binds a sealed secret to its connection. */
export function sealingBox(config: AppConfig): SecretBox {
  return new SecretBox(config.auth.mfaEncryptionKey);
}
export function secretContext(connectionId: string): string {
  return `sso_connection:${connectionId}`;
}

function conflict(slug: string, detail: string): ProblemException {
  return new ProblemException({ status: HttpStatus.CONFLICT, slug, title: 'Conflict', detail });
}
