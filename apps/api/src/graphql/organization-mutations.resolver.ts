import { CurrentPrincipal, CurrentUser, NoImpersonation, type Principal, type UserPrincipal } from '@app/auth';
import { OrSelf, RequirePermissions, TeamScoped } from '@app/rbac';
import { Args, ID, Mutation } from '@nestjs/graphql';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { InvitationsService } from '../invitations/invitations.service';
import { MembersService } from '../members/members.service';
import { OrganizationsService } from '../organizations/organizations.service';
import { ProjectsService } from '../projects/projects.service';
import { RolesService } from '../roles/roles.service';
import { TeamsService } from '../teams/teams.service';
import { MemberNode, OrganizationNode } from './models';
import {
  AddMemberInput,
  CreateApiKeyInput,
  CreatedApiKeyNode,
  CreateInvitationInput,
  CreateProjectInput,
  CreateRoleInput,
  InvitationNode,
  ProjectNode,
  RoleNode,
  SetRolesInput,
  UpdateOrganizationInput,
  UpdateProjectInput,
  UpdateRoleInput,
} from './models-more';
import { toOrganizationNode } from './organization.resolver';
import { ApiResolver } from './tenant-scope';

const id = () => ID;

/**
 * What REST can change in an organization, as mutations: each calls the service its REST route
 * calls, with the same permission, so the same checks (no escalation, last owner), audit rows
 * and domain events follow. Deletions answer the id of what was deleted.
 */
@ApiResolver()
export class OrganizationMutationsResolver {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly members: MembersService,
    private readonly teams: TeamsService,
    private readonly roles: RolesService,
    private readonly projects: ProjectsService,
    private readonly invitations: InvitationsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Mutation(() => OrganizationNode, { description: 'Needs organizations:update.' })
  @RequirePermissions('organizations:update')
  async updateOrganization(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: UpdateOrganizationInput,
  ): Promise<OrganizationNode> {
    return toOrganizationNode(await this.organizations.update(principal, orgId, input));
  }

  @Mutation(() => MemberNode, {
    description: 'Needs members:invite. Adds an existing user; roles you grant must be ones you hold.',
  })
  @RequirePermissions('members:invite')
  addMember(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: AddMemberInput,
  ): Promise<MemberNode> {
    return this.members.add(principal, orgId, input.userId, input.roleIds);
  }

  @Mutation(() => MemberNode, { description: "Needs members:update-roles. Replaces the member's organization roles." })
  @RequirePermissions('members:update-roles')
  setMemberRoles(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('userId', { type: id }) userId: string,
    @Args('input') input: SetRolesInput,
  ): Promise<MemberNode> {
    return this.members.setRoles(principal, orgId, userId, input.roleIds);
  }

  @Mutation(() => ID, {
    description: 'Needs members:remove, except to leave (your own userId). Refused for the last owner.',
  })
  @RequirePermissions('members:remove')
  @OrSelf('userId')
  async removeMember(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('userId', { type: id }) userId: string,
  ): Promise<string> {
    await this.members.remove(principal, orgId, userId);
    return userId;
  }

  @Mutation(() => MemberNode, { description: 'Needs team-members:manage. An organization member joins the team.' })
  @RequirePermissions('team-members:manage')
  addTeamMember(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('teamId', { type: id }) teamId: string,
    @Args('input') input: AddMemberInput,
  ): Promise<MemberNode> {
    return this.teams.addMember(principal, orgId, teamId, input.userId, input.roleIds);
  }

  @Mutation(() => MemberNode, { description: "Needs team-members:manage. Replaces the member's team roles." })
  @RequirePermissions('team-members:manage')
  setTeamMemberRoles(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('teamId', { type: id }) teamId: string,
    @Args('userId', { type: id }) userId: string,
    @Args('input') input: SetRolesInput,
  ): Promise<MemberNode> {
    return this.teams.setMemberRoles(principal, orgId, teamId, userId, input.roleIds);
  }

  @Mutation(() => ID, { description: 'Needs team-members:manage, except to leave the team.' })
  @RequirePermissions('team-members:manage')
  @OrSelf('userId')
  async removeTeamMember(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('teamId', { type: id }) teamId: string,
    @Args('userId', { type: id }) userId: string,
  ): Promise<string> {
    await this.teams.removeMember(principal, orgId, teamId, userId);
    return userId;
  }

  @Mutation(() => RoleNode, { description: 'Needs roles:create. Only permissions you hold.' })
  @RequirePermissions('roles:create')
  createRole(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: CreateRoleInput,
  ): Promise<RoleNode> {
    return this.roles.create(principal, orgId, input);
  }

  @Mutation(() => RoleNode, { description: 'Needs roles:update. System roles cannot change.' })
  @RequirePermissions('roles:update')
  updateRole(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('roleId', { type: id }) roleId: string,
    @Args('input') input: UpdateRoleInput,
  ): Promise<RoleNode> {
    return this.roles.update(principal, orgId, roleId, input);
  }

  @Mutation(() => ID, { description: 'Needs roles:delete. System roles and roles still held cannot be deleted.' })
  @RequirePermissions('roles:delete')
  async deleteRole(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('roleId', { type: id }) roleId: string,
  ): Promise<string> {
    await this.roles.remove(principal, orgId, roleId);
    return roleId;
  }

  @Mutation(() => ProjectNode, { description: 'Needs projects:create (organization-wide, or in the team named).' })
  @RequirePermissions('projects:create')
  @TeamScoped()
  createProject(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: CreateProjectInput,
  ): Promise<ProjectNode> {
    return this.projects.create(principal, orgId, input);
  }

  @Mutation(() => ProjectNode, { description: "Needs projects:update (organization-wide, or in the project's team)." })
  @RequirePermissions('projects:update')
  @TeamScoped()
  updateProject(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('projectId', { type: id }) projectId: string,
    @Args('input') input: UpdateProjectInput,
  ): Promise<ProjectNode> {
    return this.projects.update(principal, orgId, projectId, input);
  }

  @Mutation(() => ID, { description: "Needs projects:delete (organization-wide, or in the project's team)." })
  @RequirePermissions('projects:delete')
  @TeamScoped()
  async deleteProject(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('projectId', { type: id }) projectId: string,
  ): Promise<string> {
    await this.projects.remove(principal, orgId, projectId);
    return projectId;
  }

  @Mutation(() => InvitationNode, { description: 'Needs members:invite. Mails the invitation.' })
  @RequirePermissions('members:invite')
  inviteMember(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: CreateInvitationInput,
  ): Promise<InvitationNode> {
    return this.invitations.create(principal, orgId, input);
  }

  @Mutation(() => ID, { description: 'Needs members:invite. The invitation can no longer be accepted.' })
  @RequirePermissions('members:invite')
  async revokeInvitation(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('invitationId', { type: id }) invitationId: string,
  ): Promise<string> {
    await this.invitations.revoke(principal, orgId, invitationId);
    return invitationId;
  }

  @Mutation(() => InvitationNode, { description: 'Needs members:invite. A new token and expiry, mailed again.' })
  @RequirePermissions('members:invite')
  resendInvitation(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('invitationId', { type: id }) invitationId: string,
  ): Promise<InvitationNode> {
    return this.invitations.resend(principal, orgId, invitationId);
  }

  @Mutation(() => CreatedApiKeyNode, {
    description: 'Needs api-keys:create (a user, not a key). The secret is in this answer only.',
  })
  @RequirePermissions('api-keys:create')
  @NoImpersonation()
  async createApiKey(
    @CurrentUser() principal: UserPrincipal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('input') input: CreateApiKeyInput,
  ): Promise<CreatedApiKeyNode> {
    const { key, ...apiKey } = await this.apiKeys.create(principal, orgId, input);
    return { apiKey, key };
  }

  @Mutation(() => ID, { description: 'Needs api-keys:revoke. Refused from the next request on, on every replica.' })
  @RequirePermissions('api-keys:revoke')
  async revokeApiKey(
    @CurrentPrincipal() principal: Principal,
    @Args('orgId', { type: id }) orgId: string,
    @Args('apiKeyId', { type: id }) apiKeyId: string,
  ): Promise<string> {
    await this.apiKeys.revoke(principal, orgId, apiKeyId);
    return apiKeyId;
  }
}
