import { newId } from '@app/common';
import { Organization, OrganizationMember, Team, TeamMember, User, type TenantTransaction } from '@app/database';

export interface TenantFixture {
  organization: Organization;
  owner: User;
  member: User;
  team: Team;
}

export interface TwoTenants {
  a: TenantFixture;
  b: TenantFixture;
  /** A user who belongs to no organization. */
  outsider: User;
}

function user(label: string): User {
  return Object.assign(new User(), {
    id: newId(),
    email: `${label}-${newId().slice(-12)}@example.test`,
    fullName: label,
    passwordHash: null,
    emailVerifiedAt: new Date(),
  });
}

/**
 * Two organizations, each with an owner, a member and a team, plus an outsider.
 * Written through the system transaction, as a seed script would; later issues add roles.
 */
export async function createTwoTenants(transactions: TenantTransaction): Promise<TwoTenants> {
  return transactions.runAsSystem(async (manager) => {
    const tenant = async (label: string): Promise<TenantFixture> => {
      const organization = await manager.save(
        Object.assign(new Organization(), {
          id: newId(),
          name: `Org ${label}`,
          slug: `org-${label}-${newId().slice(-8)}`,
        }),
      );
      const owner = await manager.save(user(`${label}-owner`));
      const member = await manager.save(user(`${label}-member`));
      for (const person of [owner, member]) {
        await manager.save(
          Object.assign(new OrganizationMember(), { id: newId(), organizationId: organization.id, userId: person.id }),
        );
      }
      const team = await manager.save(
        Object.assign(new Team(), {
          id: newId(),
          organizationId: organization.id,
          name: `Team ${label}`,
          slug: 'core',
        }),
      );
      await manager.save(
        Object.assign(new TeamMember(), {
          id: newId(),
          organizationId: organization.id,
          teamId: team.id,
          userId: member.id,
        }),
      );
      return { organization, owner, member, team };
    };
    const a = await tenant('a');
    const b = await tenant('b');
    const outsider = await manager.save(user('outsider'));
    return { a, b, outsider };
  });
}
