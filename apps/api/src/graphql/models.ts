import { Extensions, Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { CreateTeamDto, UpdateTeamDto } from '../teams/dto/team.dto';
import { connectionOf } from './connection';

/**
 * The GraphQL types. Objects that belong to an organization carry `organizationId` (and a team's
 * own `teamId`) as plain properties: the authorization guard reads them off the parent to scope
 * the fields below it, as it reads :orgId and :teamId from a REST path.
 */

@ObjectType('MemberRole', { description: 'A role held by a member (organization-wide, or in one team).' })
export class RoleRef {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  isSystem!: boolean;
}

@ObjectType('Member', { description: 'A member of an organization or team, with the roles held there.' })
export class MemberNode {
  @Field(() => ID)
  userId!: string;

  @Field()
  email!: string;

  @Field(() => String, { nullable: true })
  fullName!: string | null;

  @Field()
  joinedAt!: Date;

  @Field(() => [RoleRef])
  @Extensions({ listSize: 10 })
  roles!: RoleRef[];
}

@ObjectType('Team')
export class TeamNode {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  organizationId!: string;

  /** The team the fields below this one are scoped to (not in the schema: it is `id`). */
  teamId!: string;

  @Field()
  name!: string;

  @Field()
  slug!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field()
  createdAt!: Date;
}

@ObjectType('Organization')
export class OrganizationNode {
  @Field(() => ID)
  id!: string;

  /** The organization the fields below this one are scoped to (not in the schema: it is `id`). */
  organizationId!: string;

  @Field()
  name!: string;

  @Field()
  slug!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType('Viewer', { description: 'The signed-in user.' })
export class ViewerNode {
  @Field(() => ID)
  id!: string;

  @Field()
  email!: string;

  @Field(() => String, { nullable: true })
  fullName!: string | null;
}

export const OrganizationConnection = connectionOf(OrganizationNode, 'Organization');
export const TeamConnection = connectionOf(TeamNode, 'Team');
export const MemberConnection = connectionOf(MemberNode, 'Member');

// Inputs extend the REST DTOs (their validation and transforms), redeclaring each field for the schema.

@InputType()
export class CreateTeamInput extends CreateTeamDto {
  @Field()
  declare name: string;

  @Field({ nullable: true, description: 'Unique in the organization; made from the name when absent.' })
  declare slug?: string;

  @Field({ nullable: true })
  declare description?: string;
}

@InputType()
export class UpdateTeamInput extends UpdateTeamDto {
  @Field({ nullable: true })
  declare name?: string;

  @Field({ nullable: true })
  declare slug?: string;

  @Field({ nullable: true })
  declare description?: string;
}
