import { AuditService } from '@app/audit';
import { generateSecret, sha256 } from '@app/auth';
import { ProblemException } from '@app/common';
import { AppConfig } from '@app/config';
import {
  OrganizationMember,
  RoleAssignment,
  SsoConnection,
  TeamMember,
  TenantTransaction,
  User,
  type SsoRoleMapping,
  type SsoTeamMapping,
} from '@app/database';
import { PermissionResolver, SYSTEM_ROLES } from '@app/rbac';
import { guardedFetch, newId, spoofingCharacter } from '@app/common';
import type { EntityManager } from 'typeorm';
import { SamlServiceProvider, serviceProviderMetadata, type SamlConnectionSettings } from '@app/sso';
import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import type { MfaChallengeDto, TokenResponseDto } from '../auth/dto/token-response.dto';
import { MembersService } from '../members/members.service';
import { ExternalAccounts } from '../oauth/external-accounts';
import { OAuthStateStore } from '../oauth/oauth-state.store';
import { PROVIDER_LIMITS } from '../oauth/sign-in/built-in-strategies';
import { OpenIdConnectStrategy } from '../oauth/sign-in/openid-connect.strategy';
import { sameBinding } from '../oauth/sign-in/flow-binding';
import { runStrategy, strategyRequest, type StrategyOutcome } from '../oauth/sign-in/passport-bridge';
import { isUnreachable, providerProblem } from '../oauth/sign-in/provider-errors';
import type { ExternalIdentity } from '../oauth/sign-in/sign-in-strategy';
import { SamlConnectionStrategy, type SamlSignInInfo } from './saml-connection.strategy';
import { sealingBox, secretContext } from './sso-admin.service';
import { connectionUrls } from './sso-urls';
import { SsoStore } from './sso-store';

/** What a RelayState we issued stands for. */
interface PendingSignIn {
  connectionId: string;
  returnTo: string;
  /** Hash of the flow cookie of the browser that started it. */
  binding: string;
}

/** A finished sign-in waiting for the front end to collect it. */
interface Handoff {
  userId: string;
  connectionId: string;
  /** Hash of the flow cookie of the browser the sign-in came back to: only it can collect the session. */
  binding: string;
}

/** The browser at a callback: the binding it showed, and a way to bind it (its cookie, new if it has none). */
export interface BrowserBinding {
  presented: string | undefined;
  bind: () => string;
}

const RELAY_TTL_MS = 10 * 60_000;
const HANDOFF_TTL_MS = 60_000;
const HANDOFF_PREFIX = 'sso_';
/** Per-connection OpenID Connect strategies kept (discovery and JWKS cached with them). */
const MAX_CACHED_STRATEGIES = 500;

/** What the issuer put on an OpenID Connect connection's callback. */
export interface OidcCallbackQuery {
  code?: string;
  state?: string;
  iss?: string;
  error?: string;
}

/** A refused sign-in: the browser goes back to the front end with `sso_error=<code>` when we know where. */
export class SsoSignInRefused extends Error {
  constructor(
    readonly code: string,
    readonly returnTo: string | undefined,
  ) {
    super(code);
  }
}

/**
 * Signing in through an organization's connection, SAML or OpenID Connect, each a passport
 * strategy run through the bridge: the redirect to the IdP, what it sends back, just-in-time
 * provisioning, and the single-use code that hands the session to the front end (tokens never
 * travel in a URL).
 *
 * Who may sign in: only an address in one of the connection's organization's verified domains.
 * A connection provisions into its own organization and no other.
 */
@Injectable()
export class SsoSignInService {
  private readonly logger = new Logger('SsoSignIn');
  private readonly sp: SamlServiceProvider;
  private readonly oidcStrategies = new Map<string, { version: number; strategy: OpenIdConnectStrategy }>();

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
    private readonly store: SsoStore,
    private readonly states: OAuthStateStore,
    private readonly accounts: ExternalAccounts,
    private readonly members: MembersService,
    private readonly permissions: PermissionResolver,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {
    this.sp = new SamlServiceProvider(store.saml);
  }

  /** The IdP URL to send the browser to; 404 for an unknown or disabled connection, 400 for a foreign returnTo. */
  async authorize(connectionId: string, returnTo: string | undefined, bind: () => string): Promise<string> {
    const connection = await this.connection(connectionId);
    if (!connection) throw unknownConnection();
    const target = this.returnTarget(returnTo);
    if (!target) {
      throw new ProblemException({
        status: HttpStatus.BAD_REQUEST,
        slug: 'validation-error',
        title: 'Validation failed',
        detail: 'returnTo must be a page on APP_URL or one of CORS_ORIGINS.',
        errors: [{ field: 'returnTo', message: 'returnTo must be on an allowed origin' }],
      });
    }
    const binding = bind();
    if (connection.type === 'oidc') {
      const strategy = this.oidcStrategy(connection);
      const outcome = await this.run(connection, () =>
        runStrategy(strategy, strategyRequest({ provider: strategy.name, intent: 'login', binding })),
      );
      if (outcome.kind !== 'redirect') throw providerProblem(this.logger, strategy.name, new Error(outcome.kind));
      const state = new URL(outcome.url).searchParams.get('state') ?? '';
      await this.store.put(
        'relay',
        `oidc:${state}`,
        { connectionId, returnTo: target, binding } satisfies PendingSignIn,
        RELAY_TTL_MS,
      );
      return outcome.url;
    }
    const relayState = generateSecret('rs_').token;
    const outcome = await runStrategy(
      this.samlStrategy(connection),
      strategyRequest({ provider: '', intent: 'login' }),
      {
        relayState,
      },
    );
    if (outcome.kind !== 'redirect') throw new Error(`SAML strategy ended with ${outcome.kind}`);
    await this.store.put(
      'relay',
      relayState,
      { connectionId, returnTo: target, binding } satisfies PendingSignIn,
      RELAY_TTL_MS,
    );
    return outcome.url;
  }

  /**
   * The IdP's POST to the ACS: validates the response, finds or provisions the person, and
   * returns where to send the browser with a single-use code. Throws SsoSignInRefused.
   */
  async acs(
    connectionId: string,
    samlResponse: unknown,
    relayState: unknown,
    browser: BrowserBinding,
  ): Promise<string> {
    const pending =
      typeof relayState === 'string' && relayState.length <= 200
        ? await this.store.take<PendingSignIn>('relay', relayState)
        : undefined;
    // A RelayState of ours names its connection: one minted for another connection is not this flow's.
    const returnTo = pending?.connectionId === connectionId ? pending.returnTo : undefined;
    const refuse = this.refuser(connectionId, returnTo ?? (pending ? undefined : this.config.sso.returnUrl));
    const connection = await this.connection(connectionId);
    if (!connection || connection.type !== 'saml') return refuse('unknown-connection');
    if (pending && pending.connectionId !== connectionId) return refuse('relay-state-mismatch');
    // A flow we started finishes only in the browser that started it (login CSRF).
    if (pending && !sameBinding(pending.binding, browser.presented)) return refuse('other-browser');
    if (typeof samlResponse !== 'string' || samlResponse.length === 0) return refuse('malformed');

    const outcome = await runStrategy(
      this.samlStrategy(connection),
      strategyRequest({ provider: '', intent: 'login' }, { method: 'POST', body: { SAMLResponse: samlResponse } }),
    );
    if (outcome.kind !== 'success') {
      const code = outcome.kind === 'fail' ? (outcome.challenge as { code?: string; message?: string }) : undefined;
      this.logger.warn(`refused a SAML response for connection ${connectionId}: ${code?.code}: ${code?.message}`);
      return refuse(code?.code ?? 'malformed');
    }
    const info = outcome.info as SamlSignInInfo;
    // SP-initiated answers arrive with our RelayState; an IdP-initiated one has none of ours.
    if (info.inResponseTo && !pending) return refuse('unknown-request');
    if (info.profile.nameId.length > 255) return refuse('malformed');
    return this.admit(connection, outcome.user as ExternalIdentity, returnTo, browser, refuse);
  }

  /**
   * Where an organization's OpenID issuer sends the browser back: the state must be one this
   * connection issued (single use), then the code is exchanged and the ID token checked, and the
   * person admitted like a SAML one. Returns where to send the browser; throws SsoSignInRefused.
   */
  async oidcCallback(connectionId: string, query: OidcCallbackQuery, browser: BrowserBinding): Promise<string> {
    const state =
      typeof query.state === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(query.state) ? query.state : undefined;
    const pending = state ? await this.store.take<PendingSignIn>('relay', `oidc:${state}`) : undefined;
    const returnTo = pending?.connectionId === connectionId ? pending.returnTo : undefined;
    const refuse = this.refuser(connectionId, returnTo ?? this.config.sso.returnUrl);
    const connection = await this.connection(connectionId);
    if (!connection || connection.type !== 'oidc') return refuse('unknown-connection');
    if (!pending || pending.connectionId !== connectionId) return refuse('invalid-state');
    if (typeof query.error === 'string') return refuse('idp-refused', { error: query.error.slice(0, 100) });
    // Without a code the strategy would start a new flow: this is a callback, so refuse.
    if (!query.code) return refuse('malformed');
    const strategy = this.oidcStrategy(connection);
    const callback: Record<string, string> = { code: query.code ?? '', state: state ?? '' };
    if (query.iss) callback.iss = query.iss;
    let outcome: StrategyOutcome;
    try {
      const intent = { provider: strategy.name, intent: 'login' as const, binding: browser.presented ?? '' };
      outcome = await runStrategy(strategy, strategyRequest(intent, { query: callback }));
    } catch (error) {
      const unreachable = isUnreachable(error);
      this.logger.warn(`OpenID Connect sign-in for connection ${connectionId} failed: ${String(error)}`);
      return refuse(unreachable ? 'idp-unavailable' : 'oidc-failed');
    }
    if (outcome.kind !== 'success') {
      const reason =
        outcome.kind === 'fail' ? (outcome.challenge as { reason?: unknown } | undefined)?.reason : undefined;
      return refuse(reason === 'other-browser' ? 'other-browser' : 'invalid-state');
    }
    return this.admit(connection, outcome.user as ExternalIdentity, returnTo, browser, refuse);
  }

  /**
   * The common end of every connection's sign-in: an address in one of the organization's
   * verified domains, the account found or made (vouched by the domain proof and the
   * organization's IdP), the membership provisioned, and a single-use code for the front end.
   */
  private async admit(
    connection: SsoConnection,
    identity: ExternalIdentity,
    returnTo: string | undefined,
    browser: BrowserBinding,
    refuse: (code: string, details?: Record<string, unknown>, userId?: string) => Promise<never>,
  ): Promise<string> {
    const email = identity.email?.toLowerCase() ?? null;
    if (!email || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 320 || spoofingCharacter(email) !== undefined) {
      return refuse('no-email');
    }
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!(await this.domainVerified(connection.organizationId, domain))) {
      return refuse('domain-not-verified', { domain });
    }
    if (identity.subject.length > 255) return refuse('malformed');
    // The organization proved the domain, and its IdP asserts the address: vouched.
    const vouched = { ...identity, email, emailVerified: true };
    let user: User;
    try {
      user = await this.accounts.resolve(vouched);
    } catch (error) {
      if (error instanceof ProblemException) return refuse(error.problem.slug);
      if (error instanceof HttpException) return refuse('account-refused');
      throw error;
    }
    if (!user.isActive) return refuse('account-deactivated', {}, user.id);
    // The organization's directory took this person out (SCIM active:false): signing in does not bring them back.
    if (await this.deprovisioned(connection.organizationId, user.id)) return refuse('deprovisioned', {}, user.id);
    await this.provision(connection, user, identity.attributes ?? {});

    const { token, hash } = generateSecret(HANDOFF_PREFIX);
    await this.store.put(
      'handoff',
      hash,
      { userId: user.id, connectionId: connection.id, binding: browser.presented ?? browser.bind() } satisfies Handoff,
      HANDOFF_TTL_MS,
    );
    const target = new URL(returnTo ?? this.config.sso.returnUrl);
    target.searchParams.set('sso_code', token);
    return target.toString();
  }

  /** A refusal: audited, then SsoSignInRefused carrying where to send the browser with `sso_error`. */
  private refuser(connectionId: string, returnTo: string | undefined) {
    return async (code: string, details: Record<string, unknown> = {}, userId?: string): Promise<never> => {
      await this.audit.record({
        action: 'auth.sso.login',
        outcome: 'failure',
        actorId: userId ?? null,
        targetType: 'sso_connection',
        targetId: connectionId,
        metadata: { reason: code, ...details },
      });
      throw new SsoSignInRefused(code, returnTo);
    };
  }

  /** Exchanges the code the browser came back with for a session (or the MFA step). Single use. */
  async exchange(code: string, presented: string | undefined): Promise<TokenResponseDto | MfaChallengeDto> {
    const handoff = code.startsWith(HANDOFF_PREFIX)
      ? await this.store.take<Handoff>('handoff', sha256(code))
      : undefined;
    const sameBrowser = handoff !== undefined && sameBinding(handoff.binding, presented);
    const user =
      handoff && sameBrowser
        ? await this.transactions.runAsSystem((manager) => manager.findOneBy(User, { id: handoff.userId }))
        : null;
    if (!handoff || !user?.isActive) {
      const reason = handoff && !sameBrowser ? 'other-browser' : 'invalid-code';
      await this.audit.record({ action: 'auth.sso.login', outcome: 'failure', metadata: { reason } });
      throw new ProblemException({
        status: HttpStatus.BAD_REQUEST,
        slug: 'invalid-sso-code',
        title: 'Bad Request',
        detail: 'This sign-in code is unknown, used or expired: sign in again.',
      });
    }
    const challenge = await this.auth.secondFactorChallenge(user);
    if (challenge) return challenge;
    return this.auth.startSession(user, `sso:${handoff.connectionId}`, {}, { connectionId: handoff.connectionId });
  }

  /** The enabled connection of the address's verified domain, if any; nothing else is revealed. */
  async discover(email: string): Promise<{ connectionId: string; loginUrl: string } | undefined> {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    const rows = await this.transactions.runAsSystem((manager) =>
      manager.query<Array<{ id: string }>>(
        `SELECT c.id FROM organization_domains d
           JOIN sso_connections c ON c.organization_id = d.organization_id AND c.enabled
          WHERE d.domain = $1 AND d.verified_at IS NOT NULL
          ORDER BY c.created_at ASC LIMIT 1`,
        [domain],
      ),
    );
    const row = rows[0];
    return row ? { connectionId: row.id, loginUrl: connectionUrls(this.config, row.id).loginUrl } : undefined;
  }

  /** SP metadata for the IdP's administrator; undefined for an unknown connection. */
  async metadata(connectionId: string): Promise<string | undefined> {
    const connection = await this.connection(connectionId, true);
    return connection?.type === 'saml' ? serviceProviderMetadata(this.settings(connection)) : undefined;
  }

  /** Makes the person a member of the connection's organization (once), with the mapped roles. */
  private async provision(connection: SsoConnection, user: User, attributes: Record<string, string[]>): Promise<void> {
    const orgId = connection.organizationId;
    const added = await this.transactions.run(orgId, async (manager) => {
      if (await manager.existsBy(OrganizationMember, { organizationId: orgId, userId: user.id })) return false;
      const roleIds = await this.mappedRoles(connection, attributes);
      await this.members.insertMembership(manager, orgId, user.id, roleIds, null);
      const teamIds = await this.mappedTeams(manager, connection, attributes);
      for (const teamId of teamIds) {
        await manager.insert(TeamMember, { id: newId(), organizationId: orgId, teamId, userId: user.id });
        await manager.insert(RoleAssignment, {
          id: newId(),
          organizationId: orgId,
          teamId,
          userId: user.id,
          roleId: SYSTEM_ROLES['team-member'].id,
          grantedByUserId: null,
        });
      }
      await this.audit.change(manager, 'member.add', orgId, { actorType: 'system', actorId: null }, ['user', user.id], {
        roleIds,
        teamIds,
        via: 'sso-provisioning',
        connectionId: connection.id,
      });
      return true;
    });
    if (added) await this.permissions.invalidate(orgId, user.id);
  }

  /** Roles from the mappings that match the attributes, else the connection's default, else member; live roles only. */
  private async mappedRoles(connection: SsoConnection, attributes: Record<string, string[]>): Promise<string[]> {
    const matches = (mapping: SsoRoleMapping) =>
      (Object.hasOwn(attributes, mapping.attribute) ? (attributes[mapping.attribute] ?? []) : []).some(
        (value) => value === mapping.value,
      );
    const wanted = [...new Set(connection.roleMappings.filter(matches).flatMap((mapping) => mapping.roleIds))];
    const candidates = wanted.length > 0 ? wanted : [connection.defaultRoleId ?? SYSTEM_ROLES.member.id];
    const live = await this.transactions.run(connection.organizationId, (manager) =>
      manager.query<Array<{ id: string }>>(
        `SELECT id FROM roles WHERE id = ANY($1) AND scope = 'organization'
            AND (organization_id IS NULL OR organization_id = $2)`,
        [candidates, connection.organizationId],
      ),
    );
    return live.length > 0 ? live.map((row) => row.id) : [SYSTEM_ROLES.member.id];
  }

  /** Teams from the mappings that match the attributes: existing teams of the connection's organization only. */
  private async mappedTeams(
    manager: EntityManager,
    connection: SsoConnection,
    attributes: Record<string, string[]>,
  ): Promise<string[]> {
    const matches = (mapping: SsoTeamMapping) =>
      (Object.hasOwn(attributes, mapping.attribute) ? (attributes[mapping.attribute] ?? []) : []).some(
        (value) => value === mapping.value,
      );
    const wanted = [...new Set(connection.teamMappings.filter(matches).flatMap((mapping) => mapping.teamIds))];
    if (wanted.length === 0) return [];
    const live = await manager.query<Array<{ id: string }>>(
      'SELECT id FROM teams WHERE id = ANY($1) AND organization_id = $2 ORDER BY id',
      [wanted, connection.organizationId],
    );
    return live.map((row) => row.id);
  }

  private async deprovisioned(orgId: string, userId: string): Promise<boolean> {
    const rows = await this.transactions.run(orgId, (manager) =>
      manager.query<unknown[]>('SELECT 1 FROM scim_users WHERE organization_id = $1 AND user_id = $2 AND NOT active', [
        orgId,
        userId,
      ]),
    );
    return rows.length > 0;
  }

  private async domainVerified(orgId: string, domain: string): Promise<boolean> {
    const rows = await this.transactions.run(orgId, (manager) =>
      manager.query<unknown[]>(
        'SELECT 1 FROM organization_domains WHERE organization_id = $1 AND domain = $2 AND verified_at IS NOT NULL',
        [orgId, domain],
      ),
    );
    return rows.length > 0;
  }

  private async connection(id: string, evenDisabled = false): Promise<SsoConnection | null> {
    // Before sign-in no tenant is known: a deliberate system read by the connection's id.
    const row = await this.transactions.runAsSystem((manager) => manager.findOneBy(SsoConnection, { id }));
    return row && (row.enabled || evenDisabled) ? row : null;
  }

  private samlStrategy(connection: SsoConnection): SamlConnectionStrategy {
    return new SamlConnectionStrategy(this.sp, this.settings(connection), connection.name);
  }

  /**
   * The connection's OpenID Connect strategy, kept while the connection is unchanged (its
   * discovery and keys stay cached); every request it makes goes through the outbound guard.
   */
  private oidcStrategy(connection: SsoConnection): OpenIdConnectStrategy {
    const version = connection.updatedAt.getTime();
    const cached = this.oidcStrategies.get(connection.id);
    if (cached?.version === version) return cached.strategy;
    const { redirectUri } = connectionUrls(this.config, connection.id);
    const strategy = new OpenIdConnectStrategy({
      provider: { id: `oidc:${connection.id}`, displayName: connection.name, type: 'oidc' },
      issuer: connection.oidcIssuer ?? '',
      clientId: connection.oidcClientId ?? '',
      clientSecret: sealingBox(this.config).open(connection.oidcClientSecret ?? '', secretContext(connection.id)),
      scopes: connection.oidcScopes ?? 'openid email profile',
      redirectUri,
      states: this.states,
      timeoutSeconds: PROVIDER_LIMITS.timeoutMs / 1000,
      fetch: guardedFetch({
        allowPrivate: this.config.sso.metadataAllowPrivate,
        httpsOnly: this.config.isProduction,
        timeoutMs: PROVIDER_LIMITS.timeoutMs,
        maxBytes: PROVIDER_LIMITS.maxBytes,
      }),
    });
    this.oidcStrategies.delete(connection.id);
    this.oidcStrategies.set(connection.id, { version, strategy });
    // Oldest first out: a Map iterates in insertion order.
    if (this.oidcStrategies.size > MAX_CACHED_STRATEGIES) {
      const oldest = this.oidcStrategies.keys().next().value;
      if (oldest !== undefined) this.oidcStrategies.delete(oldest);
    }
    return strategy;
  }

  /** Runs a strategy step that talks to the IdP: unreachable is 503, anything else 400 oauth-failed. */
  private async run(connection: SsoConnection, step: () => Promise<StrategyOutcome>): Promise<StrategyOutcome> {
    try {
      return await step();
    } catch (error) {
      throw providerProblem(this.logger, `connection ${connection.id}`, error);
    }
  }

  private settings(connection: SsoConnection): SamlConnectionSettings {
    const { spEntityId, acsUrl } = connectionUrls(this.config, connection.id);
    return {
      connectionId: connection.id,
      idpEntityId: connection.idpEntityId ?? '',
      idpSsoUrl: connection.idpSsoUrl ?? '',
      idpCertificates: connection.idpCertificates,
      spEntityId,
      acsUrl,
      allowIdpInitiated: connection.allowIdpInitiated,
    };
  }

  /** `returnTo` when it is on an allowed origin (no open redirect), the default when absent. */
  private returnTarget(returnTo: string | undefined): string | undefined {
    if (returnTo === undefined || returnTo === '') return this.config.sso.returnUrl;
    let url: URL;
    try {
      url = new URL(returnTo);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (url.username || url.password) return undefined;
    return this.config.sso.returnOrigins.includes(url.origin) ? url.toString() : undefined;
  }
}

function unknownConnection(): ProblemException {
  return new ProblemException({
    status: HttpStatus.NOT_FOUND,
    slug: 'unknown-connection',
    title: 'Not Found',
    detail: 'No enabled single sign-on connection has this id.',
  });
}
