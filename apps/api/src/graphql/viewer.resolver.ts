import { CurrentUser, type UserPrincipal } from '@app/auth';
import { OwnAccount } from '@app/rbac';
import { Args, Int, Parent, Query, ResolveField } from '@nestjs/graphql';
import { OrganizationsService } from '../organizations/organizations.service';
import { UsersService } from '../users/users.service';
import { toConnection, window, type Connection } from './connection';
import { OrganizationConnection, ViewerNode, type OrganizationNode } from './models';
import { toOrganizationNode } from './organization.resolver';
import { ApiResolver } from './tenant-scope';

/** The signed-in user and what they belong to. A user's own: API keys are refused, as on /users/me. */
@ApiResolver(() => ViewerNode)
export class ViewerResolver {
  constructor(
    private readonly users: UsersService,
    private readonly organizationsService: OrganizationsService,
  ) {}

  @Query(() => ViewerNode, { description: 'The signed-in user (a user access token; not an API key).' })
  @OwnAccount()
  async viewer(@CurrentUser() principal: UserPrincipal): Promise<ViewerNode> {
    const user = await this.users.get(principal.userId);
    return { id: user.id, email: user.email, fullName: user.fullName };
  }

  @ResolveField(() => OrganizationConnection, { description: 'The organizations the user is a member of.' })
  @OwnAccount()
  async organizations(
    @CurrentUser() principal: UserPrincipal,
    @Parent() viewer: ViewerNode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<Connection<OrganizationNode>> {
    // The parent is always the caller (Query.viewer is the only way in); checked all the same.
    if (viewer.id !== principal.userId) throw new Error('Viewer.organizations resolved for another user');
    const { offset, limit } = window(first, after);
    return toConnection(
      await this.organizationsService.sliceMine(principal.userId, offset, limit),
      offset,
      toOrganizationNode,
    );
  }
}
