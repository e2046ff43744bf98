import { CurrentPrincipal, type UserPrincipal } from '@app/auth';
import { Body, Controller, Get, HttpCode, HttpStatus, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { ChangePasswordDto } from './dto/change-password.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { UserDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiOperation({ summary: 'The current user', description: 'Authenticated.' })
  @ApiOkResponse({ type: UserDto })
  @ApiAuthenticated()
  me(@CurrentPrincipal() principal: UserPrincipal): Promise<UserDto> {
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
  update(@CurrentPrincipal() principal: UserPrincipal, @Body() dto: UpdateProfileDto): Promise<UserDto> {
    return this.users.updateProfile(principal.userId, dto);
  }

  @Put('me/password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Change your password',
    description: 'Authenticated. Needs the current password; the policy applies; every other session is revoked.',
  })
  @ApiAuthenticated()
  @ApiProblems(400)
  async changePassword(@CurrentPrincipal() principal: UserPrincipal, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.users.changePassword(principal, dto);
  }
}
