import { CurrentUser, ImpersonationSafe, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { UuidParam } from '@app/common';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { UserDto } from '../users/dto/user.dto';
import { UsersService } from '../users/users.service';
import { AccountRecoveryService } from './account-recovery.service';
import { AuthService } from './auth.service';
import { LoginDto } from './dto/credentials.dto';
import { ForgotPasswordDto } from './dto/forgot-password.dto';
import { LogoutDto } from './dto/logout.dto';
import { MessageDto } from './dto/message.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { RegisterDto } from './dto/register.dto';
import { ResetPasswordDto } from './dto/reset-password.dto';
import { SessionDto } from './dto/session.dto';
import { OneTimeTokenDto } from './dto/token.dto';
import { MfaChallengeDto, TokenResponseDto } from './dto/token-response.dto';
import { SessionService } from './session.service';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';

@ApiTags('auth')
@ApiExtraModels(TokenResponseDto, MfaChallengeDto)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly recovery: AccountRecoveryService,
    private readonly sessions: SessionService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @Post('register')
  @CredentialEndpoint()
  @ApiOperation({ summary: 'Create an account', description: 'Public. Sends a verification email.' })
  @ApiProblems(400, 409, 503)
  register(@Body() dto: RegisterDto): Promise<UserDto> {
    return this.auth.register(dto);
  }

  @Public()
  @Post('login')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Sign in with email and password',
    description:
      'Public. Returns tokens, or an MFA challenge when the account has MFA. Every failure is the same 401 ' +
      '(unknown email, wrong password, locked, deactivated). 403 `email-not-verified` when verification is required.',
  })
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  @ApiProblems(400, 401, 403)
  login(@Body() dto: LoginDto): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.auth.login(dto);
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair',
    description: 'Public. The presented token dies. Presenting an already-rotated token revokes the whole session.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401)
  refresh(@Body() dto: RefreshTokenDto): Promise<TokenResponseDto> {
    return this.sessions.refresh(dto.refresh_token);
  }

  @ImpersonationSafe()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End the current session',
    description: 'Authenticated. The access token stops working at once.',
  })
  @ApiAuthenticated()
  @ApiProblems(400)
  async logout(@CurrentUser() principal: UserPrincipal, @Body() _dto: LogoutDto): Promise<void> {
    await this.auth.logout(principal);
  }

  @Get('me')
  @ApiOperation({ summary: 'The current user', description: 'Authenticated.' })
  @ApiOkResponse({ type: UserDto })
  @ApiAuthenticated()
  me(@CurrentUser() principal: UserPrincipal): Promise<UserDto> {
    return this.users.get(principal.userId);
  }

  @Get('sessions')
  @ApiOperation({ summary: "The current user's active sessions", description: 'Authenticated.' })
  @ApiOkResponse({ type: [SessionDto] })
  @ApiAuthenticated()
  listSessions(@CurrentUser() principal: UserPrincipal): Promise<SessionDto[]> {
    return this.sessions.list(principal.userId, principal.sessionId);
  }

  @NoImpersonation()
  @Delete('sessions/:sessionId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End one of your sessions',
    description: 'Authenticated. Another user’s session id is a 404.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 404)
  async revokeSession(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('sessionId') sessionId: string,
  ): Promise<void> {
    await this.sessions.revokeOwn(principal.userId, sessionId);
  }

  @NoImpersonation()
  @Delete('sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'End every session but this one', description: 'Authenticated.' })
  @ApiAuthenticated()
  async revokeOtherSessions(@CurrentUser() principal: UserPrincipal): Promise<void> {
    await this.sessions.revokeOthers(principal.userId, principal.sessionId);
  }

  @Public()
  @Post('verify-email')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Confirm an email address',
    description: 'Public. The token from the verification mail; single use.',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiProblems(400)
  async verifyEmail(@Body() dto: OneTimeTokenDto): Promise<MessageDto> {
    await this.recovery.verifyEmail(dto.token);
    return { message: 'Email address confirmed.' };
  }

  @Post('resend-verification')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send the verification mail again',
    description: 'Authenticated. Earlier links stop working.',
  })
  @ApiAuthenticated()
  @ApiProblems(409)
  async resendVerification(@CurrentUser() principal: UserPrincipal): Promise<MessageDto> {
    await this.recovery.resendVerification(principal.userId);
    return { message: 'Verification mail sent.' };
  }

  @Public()
  @Post('forgot-password')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Ask for a password reset mail',
    description: 'Public. Always 202, whether or not the address has an account.',
  })
  @ApiProblems(400)
  async forgotPassword(@Body() dto: ForgotPasswordDto): Promise<MessageDto> {
    await this.recovery.forgotPassword(dto.email);
    return { message: 'If the address has an account, a reset mail is on its way.' };
  }

  @Public()
  @Post('reset-password')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Choose a new password with a reset token',
    description: 'Public. Single-use token; the password policy applies; every session is revoked.',
  })
  @ApiOkResponse({ type: MessageDto })
  @ApiProblems(400, 503)
  async resetPassword(@Body() dto: ResetPasswordDto): Promise<MessageDto> {
    await this.recovery.resetPassword(dto.token, dto.password);
    return { message: 'Password changed. Sign in again.' };
  }
}
