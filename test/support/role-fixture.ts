import { newId } from '@app/common';
import { AccountExport, OAuthAccount, Passkey, TenantTransaction } from '@app/database';
import { grantableToApiKeys, PERMISSION_KEYS, SYSTEM_ROLES } from '@app/rbac';
import { bearer, joinByInvitation, registerAndLogin, uniqueEmail } from './auth-helpers';
import { RESOURCE_FIXTURES } from './resource-fixtures';
import { startSamlIdp, type SamlIdp } from './saml-idp';

let idp: Promise<SamlIdp> | undefined;
/** One test IdP (a key pair of its own) for every fixture of the run. */
const samlIdp = (): Promise<SamlIdp> => (idp ??= startSamlIdp());
import type { TestApp } from './test-app';

export type Account = Awaited<ReturnType<typeof registerAndLogin>>;

export const ROLE_NAMES = ['owner', 'admin', 'member', 'viewer', 'team-admin', 'team-member'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface TenantRoles {
  orgId: string;
  teamId: string;
  /** A custom organization role (members:read only). */
  roleId: string;
  /** A pending invitation. */
  invitationId: string;
  /** One of the owner's sessions. */
  sessionId: string;
  /** An external sign-in identity of the owner. */
  identityId: string;
  /** A passkey of the owner (a stored row; its key signs nothing). */
  passkeyId: string;
  /** A data export of the owner's (pending). */
  exportId: string;
  /** One object of each resource in RESOURCE_FIXTURES, by its id parameter (projectId: …). */
  objects: Record<string, string>;
  /** The organization's SCIM token (its User objects.scimUserId is a member, in Group objects.scimGroupId). */
  scimToken: string;
  /** An API key made by the owner with every permission a key may hold. */
  apiKey: { id: string; key: string };
  /** A user at every system role. The team people hold the organization role viewer besides their team role. */
  users: Record<RoleName, Account>;
}

export interface RoleFixture {
  a: TenantRoles;
  b: TenantRoles;
  /** Signed in, member of nothing. */
  outsider: Account;
}

async function expectStatus<R extends { statusCode: number; body: string }>(
  promise: Promise<R>,
  status: number,
  what: string,
): Promise<R> {
  const res = await promise;
  if (res.statusCode !== status) throw new Error(`fixture: ${what} gave ${res.statusCode}: ${res.body}`);
  return res;
}

async function tenant(t: TestApp, label: string): Promise<TenantRoles> {
  const call = (as: Account, method: 'POST' | 'GET', url: string, payload?: object) =>
    t.inject({ method, url: `/api/v1${url}`, headers: bearer(as.tokens.access_token), payload });
  const owner = await registerAndLogin(t, `${label}-owner`);
  const org = await expectStatus(call(owner, 'POST', '/organizations', { name: `Org ${label}` }), 201, 'create org');
  const orgId = org.json<{ id: string }>().id;
  const join = async (role: RoleName, roleId: string) => {
    const account = await registerAndLogin(t, `${label}-${role}`);
    await joinByInvitation(t, owner, orgId, account, [roleId]);
    return account;
  };
  const admin = await join('admin', SYSTEM_ROLES.admin.id);
  const member = await join('member', SYSTEM_ROLES.member.id);
  const viewer = await join('viewer', SYSTEM_ROLES.viewer.id);
  const teamAdmin = await join('team-admin', SYSTEM_ROLES.viewer.id);
  const teamMember = await join('team-member', SYSTEM_ROLES.viewer.id);
  const team = await expectStatus(call(owner, 'POST', `/organizations/${orgId}/teams`, { name: 'Core' }), 201, 'team');
  const teamId = team.json<{ id: string }>().id;
  for (const [account, role] of [
    [teamAdmin, SYSTEM_ROLES['team-admin'].id],
    [teamMember, SYSTEM_ROLES['team-member'].id],
  ] as const) {
    await expectStatus(
      call(owner, 'POST', `/organizations/${orgId}/teams/${teamId}/members`, {
        userId: account.userId,
        roleIds: [role],
      }),
      201,
      'add team member',
    );
  }
  const role = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/roles`, {
      name: 'auditor',
      scope: 'organization',
      permissions: ['members:read'],
    }),
    201,
    'custom role',
  );
  const invitation = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/invitations`, { email: uniqueEmail(`${label}-invitee`) }),
    201,
    'invitation',
  );
  const sessions = await expectStatus(call(owner, 'GET', '/auth/sessions'), 200, 'sessions');
  const apiKey = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/api-keys`, {
      name: 'everything a key may do',
      permissions: PERMISSION_KEYS.filter((key) => grantableToApiKeys(key)),
    }),
    201,
    'api key',
  );
  const objects: Record<string, string> = {};
  for (const resource of RESOURCE_FIXTURES) {
    const res = await expectStatus(
      call(owner, 'POST', `/organizations/${orgId}/${resource.path}`, resource.create({ teamId })),
      201,
      resource.path,
    );
    objects[resource.idParameter] = res.json<{ id: string }>().id;
  }
  // Single sign-on: a claimed domain and a SAML connection (from a test IdP's metadata).
  const domain = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/domains`, { domain: `${label}-${newId().slice(-8)}.example` }),
    201,
    'domain',
  );
  objects.domainId = domain.json<{ id: string }>().id;
  const domainName = domain.json<{ domain: string }>().domain;
  const connection = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/sso/connections`, {
      name: 'IdP',
      metadataXml: (await samlIdp()).metadataXml,
    }),
    201,
    'sso connection',
  );
  objects.connectionId = connection.json<{ id: string }>().id;
  // Directory sync: a SCIM token, and a User it provisioned in the (now verified) domain.
  await t.app
    .get(TenantTransaction)
    .runAsSystem((manager) =>
      manager.query('UPDATE organization_domains SET verified_at = now() WHERE id = $1', [objects.domainId]),
    );
  const scimToken = await expectStatus(
    call(owner, 'POST', `/organizations/${orgId}/scim/tokens`, { name: 'IdP' }),
    201,
    'scim token',
  );
  objects.tokenId = scimToken.json<{ id: string }>().id;
  const scimUser = await expectStatus(
    t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/scim/v2/Users`,
      headers: { authorization: `Bearer ${scimToken.json<{ token: string }>().token}` },
      payload: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `scim-${newId().slice(-8)}@${domainName}`,
      },
    }),
    201,
    'scim user',
  );
  objects.scimUserId = scimUser.json<{ id: string }>().id;
  const scimGroup = await expectStatus(
    t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/scim/v2/Groups`,
      headers: { authorization: `Bearer ${scimToken.json<{ token: string }>().token}` },
      payload: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: `Directory ${label}`,
        members: [{ value: objects.scimUserId }],
      },
    }),
    201,
    'scim group',
  );
  objects.scimGroupId = scimGroup.json<{ id: string }>().id;
  // A webhook endpoint and one of its deliveries, written directly (no receiver is ever called).
  objects.endpointId = newId();
  objects.deliveryId = newId();
  await t.app.get(TenantTransaction).runAsSystem(async (manager) => {
    await manager.query(
      `INSERT INTO webhook_endpoints (id, organization_id, url, secret_sealed, enabled) VALUES ($1, $2, $3, 'v1.x.x.x', false)`,
      [objects.endpointId, orgId, 'https://hooks.example.com/fixture'],
    );
    await manager.query(
      `INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, body, status, attempts)
       VALUES ($1, $2, $3, $4, 'webhook.test', '{}', 'failed', 1)`,
      [objects.deliveryId, orgId, objects.endpointId, newId()],
    );
  });
  const identityId = newId();
  await t.app.get(TenantTransaction).runAsSystem((manager) =>
    manager.insert(OAuthAccount, {
      id: identityId,
      userId: owner.userId,
      provider: 'github',
      providerAccountId: `${label}-${identityId}`,
      email: owner.email,
      emailVerified: true,
      lastUsedAt: null,
    }),
  );
  const passkeyId = newId();
  await t.app.get(TenantTransaction).runAsSystem((manager) =>
    manager.insert(Passkey, {
      id: passkeyId,
      userId: owner.userId,
      credentialId: Buffer.from(passkeyId).toString('base64url'),
      publicKey: Buffer.alloc(77),
      counter: '0',
      transports: ['internal'],
      deviceType: 'multiDevice',
      backedUp: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      name: 'Fixture',
      lastUsedAt: null,
    }),
  );
  const exportId = newId();
  await t.app
    .get(TenantTransaction)
    .runAsSystem((manager) => manager.insert(AccountExport, { id: exportId, userId: owner.userId, status: 'pending' }));
  return {
    orgId,
    identityId,
    passkeyId,
    exportId,
    teamId,
    objects,
    scimToken: scimToken.json<{ token: string }>().token,
    roleId: role.json<{ id: string }>().id,
    invitationId: invitation.json<{ id: string }>().id,
    sessionId: sessions.json<Array<{ id: string }>>()[0]?.id ?? '',
    apiKey: apiKey.json<{ id: string; key: string }>(),
    users: { owner, admin, member, viewer, 'team-admin': teamAdmin, 'team-member': teamMember },
  };
}

/**
 * Two organizations built through the api, each with a user at every system role, a team (with a
 * team-admin and a team-member), a custom role, a pending invitation, an API key; plus an outsider.
 */
export async function createRoleFixture(t: TestApp): Promise<RoleFixture> {
  const a = await tenant(t, 'a');
  const b = await tenant(t, 'b');
  const outsider = await registerAndLogin(t, 'outsider');
  return { a, b, outsider };
}
