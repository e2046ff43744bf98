import { AuditService } from '@app/audit';
import { PasswordHasher, type UserPrincipal } from '@app/auth';
import { ValidationProblemException } from '@app/common';
import { TenantTransaction, User } from '@app/database';
import { Injectable, NotFoundException } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { LockoutService } from '../auth/lockout.service';
import { SessionService } from '../auth/session.service';
import type { ChangePasswordDto } from './dto/change-password.dto';
import type { UpdateProfileDto } from './dto/update-profile.dto';
import { UserDto } from './dto/user.dto';

@Injectable()
export class UsersService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly lockout: LockoutService,
  ) {}

  async get(userId: string): Promise<UserDto> {
    const user = await this.transactions.runAsSystem((manager) => manager.findOneBy(User, { id: userId }));
    if (!user) throw new NotFoundException('No such user.');
    return UserDto.from(user);
  }

  async updateProfile(userId: string, dto: UpdateProfileDto): Promise<UserDto> {
    const user = await this.transactions.runAsSystem(async (manager) => {
      if (dto.fullName !== undefined) await manager.update(User, { id: userId }, { fullName: dto.fullName });
      await this.audit.record(
        {
          action: 'user.profile.update',
          outcome: 'success',
          actorId: userId,
          targetType: 'user',
          targetId: userId,
          metadata: { fields: Object.keys(dto) },
        },
        manager,
      );
      return manager.findOneByOrFail(User, { id: userId });
    });
    return UserDto.from(user);
  }

  /** Verifies the current password, applies the policy, and signs out every other session. */
  async changePassword(principal: UserPrincipal, dto: ChangePasswordDto): Promise<void> {
    const user = await this.transactions.runAsSystem((manager) =>
      manager.findOneByOrFail(User, { id: principal.userId }),
    );
    const reserved = await this.lockout.reserve(user);
    if (!reserved || !(await this.hasher.verify(user.passwordHash, dto.currentPassword))) {
      if (reserved) await this.lockout.fail(user, 'wrong_password:auth.password.change');
      else await this.lockout.refusal(user.id, 'locked:auth.password.change');
      throw new ValidationProblemException([{ field: 'currentPassword', message: 'currentPassword is not correct' }]);
    }
    await this.lockout.refund(user.id);
    this.auth.assertAcceptablePassword(dto.newPassword, user, 'newPassword');
    const passwordHash = await this.hasher.hash(dto.newPassword);
    const revoked = await this.transactions.runAsSystem(async (manager) => {
      const ids = await this.auth.replacePassword(
        manager,
        user,
        passwordHash,
        'auth.password.change',
        principal.sessionId,
      );
      return ids;
    });
    await this.sessions.broadcastRevocation(revoked);
  }
}
