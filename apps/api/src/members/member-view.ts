import { RoleAssignment, User } from '@app/database';
import { In, IsNull, type EntityManager } from 'typeorm';
import { shown } from '../common/shown-fields';
import type { MemberDto } from './dto/member.dto';

/** What a member list shows of an account; never its password hash, MFA secret or other credentials. */
const ACCOUNT_SHOWN = shown<User>()('id', 'email', 'fullName');

/**
 * Members as the api shows them: user details and the roles held in the organization
 * (teamId null) or in one team. Runs inside the caller's tenant unit of work.
 */
export async function describeMembers(
  manager: EntityManager,
  organizationId: string,
  teamId: string | null,
  members: Array<{ userId: string; createdAt: Date }>,
): Promise<MemberDto[]> {
  if (members.length === 0) return [];
  const userIds = members.map((m) => m.userId);
  const users = await manager.find(User, { select: ACCOUNT_SHOWN.select, where: { id: In(userIds) } });
  const assignments = await manager.find(RoleAssignment, {
    where: { organizationId, teamId: teamId ?? IsNull(), userId: In(userIds) },
    relations: { role: true },
    // In the order they were granted, as the member lists give them.
    order: { createdAt: 'ASC', id: 'ASC' },
  });
  return members.map((member) => {
    const user = users.find((u) => u.id === member.userId);
    return {
      userId: member.userId,
      email: user?.email ?? '',
      fullName: user?.fullName ?? null,
      joinedAt: member.createdAt,
      roles: assignments
        .filter((a) => a.userId === member.userId && a.role)
        .map((a) => ({ id: a.roleId, name: a.role?.name ?? '', isSystem: a.role?.isSystem ?? false })),
    };
  });
}
