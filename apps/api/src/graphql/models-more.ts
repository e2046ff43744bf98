import { Field, GraphQLISODateTime, ID, InputType, ObjectType } from '@nestjs/graphql';
import GraphQLJSON from './json-scalar';
import { CreateApiKeyDto } from '../api-keys/dto/api-key.dto';
import { AuditLogQueryDto } from '../audit-logs/dto/audit-log.dto';
import { CreateInvitationDto } from '../invitations/dto/invitation.dto';
import { AddMemberDto, SetRolesDto } from '../members/dto/member.dto';
import { UpdateOrganizationDto } from '../organizations/dto/organization.dto';
import { CreateProjectDto, UpdateProjectDto } from '../projects/dto/project.dto';
import { CreateRoleDto, UpdateRoleDto } from '../roles/dto/role.dto';
import { connectionOf, PageInfo } from './connection';
import { RoleRef } from './models';

/*
 * Inputs extend the REST DTOs: they inherit their validation (and transforms) unchanged, and only
 * redeclare each field for the schema. Both APIs accept and refuse the same values.
 */

@ObjectType('Role', { description: 'A role of the organization: system or custom, organization- or team-scoped.' })
export class RoleNode {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field({ description: 'organization or team' })
  scope!: string;

  @Field()
  isSystem!: boolean;

  @Field(() => [String])
  permissions!: string[];
}

@ObjectType('Project', { description: 'The example tenant resource; team roles count for a team-owned project.' })
export class ProjectNode {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field(() => ID, { nullable: true })
  teamId!: string | null;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field({ description: 'active or archived' })
  status!: string;

  @Field(() => String, { nullable: true })
  createdBy!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType('Invitation')
export class InvitationNode {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  @Field()
  email!: string;

  @Field(() => [RoleRef])
  roles!: RoleRef[];

  @Field({ description: 'pending, accepted, revoked or expired' })
  status!: string;

  @Field(() => ID, { nullable: true })
  invitedByUserId!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  expiresAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  acceptedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType('ApiKey', {
  description: "An API key's metadata; its secret is shown once, by createApiKey, and never stored.",
})
export class ApiKeyNode {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'Identifies the key in listings and logs; not secret.' })
  prefix!: string;

  @Field(() => [String])
  permissions!: string[];

  @Field({ description: 'active, expired or revoked' })
  status!: string;

  @Field(() => GraphQLISODateTime, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => ID, { nullable: true })
  createdByUserId!: string | null;

  @Field()
  createdAt!: Date;
}

@ObjectType('CreatedApiKey')
export class CreatedApiKeyNode {
  @Field(() => ApiKeyNode)
  apiKey!: ApiKeyNode;

  @Field({ description: 'The secret. Shown this once: store it now. Send as Authorization: Bearer <key>.' })
  key!: string;
}

@ObjectType('AuditLogEntry')
export class AuditLogEntryNode {
  @Field(() => ID)
  id!: string;

  @Field()
  occurredAt!: Date;

  @Field({ description: 'user, api_key, system or scim_token' })
  actorType!: string;

  @Field(() => String, { nullable: true })
  actorId!: string | null;

  @Field()
  action!: string;

  @Field(() => String, { nullable: true })
  targetType!: string | null;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field({ description: 'success, failure or denied' })
  outcome!: string;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => GraphQLJSON)
  metadata!: Record<string, unknown>;
}

@ObjectType('AuditLogEdge')
export class AuditLogEdge {
  @Field()
  cursor!: string;

  @Field(() => AuditLogEntryNode)
  node!: AuditLogEntryNode;
}

@ObjectType('AuditLogConnection', {
  description:
    'Newest first. No totalCount: counting a long log is a scan; page with after until hasNextPage is false.',
})
export class AuditLogConnection {
  @Field(() => [AuditLogEdge])
  edges!: AuditLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

export const ProjectConnection = connectionOf(ProjectNode, 'Project');
export const InvitationConnection = connectionOf(InvitationNode, 'Invitation');
export const ApiKeyConnection = connectionOf(ApiKeyNode, 'ApiKey');

@InputType()
export class UpdateOrganizationInput extends UpdateOrganizationDto {
  @Field({ nullable: true })
  declare name?: string;

  @Field({ nullable: true })
  declare slug?: string;
}

@InputType()
export class AddMemberInput extends AddMemberDto {
  @Field(() => ID)
  declare userId: string;

  @Field(() => [ID], { nullable: true, description: 'Organization roles; default: the system role member.' })
  declare roleIds?: string[];
}

@InputType()
export class SetRolesInput extends SetRolesDto {
  @Field(() => [ID], { description: 'The complete set of roles the member will hold.' })
  declare roleIds: string[];
}

@InputType()
export class CreateRoleInput extends CreateRoleDto {
  @Field()
  declare name: string;

  @Field({ nullable: true })
  declare description?: string;

  @Field({ description: 'organization or team' })
  declare scope: 'organization' | 'team';

  @Field(() => [String])
  declare permissions: string[];
}

@InputType()
export class UpdateRoleInput extends UpdateRoleDto {
  @Field({ nullable: true })
  declare name?: string;

  @Field({ nullable: true })
  declare description?: string;

  @Field(() => [String], { nullable: true })
  declare permissions?: string[];
}

@InputType()
export class CreateProjectInput extends CreateProjectDto {
  @Field()
  declare name: string;

  @Field({ nullable: true })
  declare description?: string;

  @Field(() => ID, { nullable: true, description: "The owning team; absent: the organization's." })
  declare teamId?: string;
}

@InputType()
export class UpdateProjectInput extends UpdateProjectDto {
  @Field({ nullable: true })
  declare name?: string;

  @Field({ nullable: true })
  declare description?: string;

  @Field({ nullable: true, description: 'active or archived' })
  declare status?: 'active' | 'archived';

  @Field(() => ID, { nullable: true, description: 'Move to another team, or null for the organization.' })
  declare teamId?: string | null;
}

@InputType()
export class CreateInvitationInput extends CreateInvitationDto {
  @Field()
  declare email: string;

  @Field(() => [ID], { nullable: true, description: 'Roles on accepting; default: the system role member.' })
  declare roleIds?: string[];
}

@InputType()
export class CreateApiKeyInput extends CreateApiKeyDto {
  @Field()
  declare name: string;

  @Field(() => [String])
  declare permissions: string[];

  @Field(() => GraphQLISODateTime, { nullable: true })
  declare expiresAt?: Date;
}

@InputType({ description: 'Narrows the audit log; every field optional.' })
export class AuditLogFilterInput extends AuditLogQueryDto {
  @Field(() => ID, { nullable: true })
  declare actorId?: string;

  @Field({ nullable: true, description: 'user, api_key, system or scim_token' })
  declare actorType?: 'user' | 'api_key' | 'system' | 'scim_token';

  @Field({ nullable: true, description: 'An action, or a prefix ending in * (team.*)' })
  declare action?: string;

  @Field({ nullable: true })
  declare targetType?: string;

  @Field({ nullable: true })
  declare targetId?: string;

  @Field({ nullable: true, description: 'success, failure or denied' })
  declare outcome?: 'success' | 'failure' | 'denied';

  @Field(() => GraphQLISODateTime, { nullable: true })
  declare from?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  declare to?: Date;
}
