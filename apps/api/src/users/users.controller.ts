import { CurrentUser, NoImpersonation, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { RequirePlatformAdmin } from '@app/rbac';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import {
  AdminUserDto,
  AdminUserPageDto,
  DeactivateQueryDto,
  UserProfileDto,
  UserSearchDto,
} from './dto/admin-user.dto';
import { PlatformAdminService } from './platform-admin.service';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';

@ApiTags('users')
@ApiExtraModels(AdminUserDto, UserProfileDto)
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly platformAdmins: PlatformAdminService,
  ) {}

  @Get()
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'All users',
    description: 'Platform admins only. Newest first; ?q= searches email and name.',
  })
  @ApiOkResponse({ type: AdminUserPageDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403)
  search(@Query() query: UserSearchDto): Promise<AdminUserPageDto> {
    return this.users.search(query);
  }

  @Get('me')
  @ApiOperation({ summary: 'The current user', description: 'Authenticated.' })
  @ApiOkResponse({ type: UserDto })
  @ApiAuthenticated()
  me(@CurrentUser() principal: UserPrincipal): Promise<UserDto> {
    return this.users.get(principal.userId);
  }

  @Put('me')
  @ApiOperation({
    summary: 'Update your profile',
    description: 'Authenticated. Only fullName; other fields are refused.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiAuthenticated()
  @ApiProblems(400)
  update(@CurrentUser() principal: UserPrincipal, @Body() dto: UpdateProfileDto): Promise<UserDto> {
    return this.users.updateProfile(principal.userId, dto);
  }

  @NoImpersonation()
  @Put('me/password')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Change your password',
    description: 'Authenticated. Needs the current password; the policy applies; every other session is revoked.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 503)
  async changePassword(@CurrentUser() principal: UserPrincipal, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.users.changePassword(principal, dto);
  }

  @Get(':userId')
  @ApiOperation({
    summary: 'A user',
    description:
      'Authenticated. Yourself: the full view. Platform admins: the admin view. Someone sharing an organization with you: id, email and name. Anyone else: 404.',
  })
  @ApiOkResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(UserDto) },
        { $ref: getSchemaPath(AdminUserDto) },
        { $ref: getSchemaPath(UserProfileDto) },
      ],
    },
  })
  @ApiAuthenticated()
  @ApiProblems(400, 404)
  profile(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('userId') userId: string,
  ): Promise<UserDto | AdminUserDto | UserProfileDto> {
    return this.users.profile(principal.userId, userId);
  }

  @Delete(':userId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Deactivate a user',
    description:
      'Platform admins only. The account can no longer sign in; every session and API key of theirs ends at once. ' +
      'Rows stay (audit history). 409 cannot-deactivate-self; 409 last-owner (with `organizations`) when they are ' +
      'the last active owner somewhere: name `successorId`, an active member of each of those organizations, who ' +
      'becomes owner there in the same step (409 successor-not-member otherwise). POST …/reactivate undoes it.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async deactivate(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('userId') userId: string,
    @Query() query: DeactivateQueryDto,
  ): Promise<void> {
    await this.users.deactivate(principal.userId, userId, query.successorId);
  }

  @Post(':userId/reactivate')
  @HttpCode(HttpStatus.OK)
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Reactivate a user',
    description:
      'Platform admins only; audited (`user.reactivate`). The account may sign in again and its memberships count ' +
      'again; sessions, refresh tokens and API keys revoked at deactivation stay revoked. Idempotent.',
  })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  reactivate(@CurrentUser() principal: UserPrincipal, @UuidParam('userId') userId: string): Promise<AdminUserDto> {
    return this.users.reactivate(principal.userId, userId);
  }

  @Post(':userId/platform-admin')
  @HttpCode(HttpStatus.OK)
  @RequirePlatformAdmin()
  @ApiOperation({ summary: 'Make a user platform admin', description: 'Platform admins only. Idempotent; audited.' })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async grantPlatformAdmin(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('userId') userId: string,
  ): Promise<AdminUserDto> {
    return AdminUserDto.fromUser(await this.platformAdmins.set(principal.userId, userId, true, 'api'));
  }

  @Delete(':userId/platform-admin')
  @RequirePlatformAdmin()
  @ApiOperation({
    summary: 'Take platform admin away',
    description: 'Platform admins only. Idempotent; audited. 409 last-platform-admin for the last one.',
  })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409)
  async revokePlatformAdmin(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('userId') userId: string,
  ): Promise<AdminUserDto> {
    return AdminUserDto.fromUser(await this.platformAdmins.set(principal.userId, userId, false, 'api'));
  }
}
