import { CurrentUser, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import {
  DisableTotpDto,
  MfaLoginDto,
  MfaStatusDto,
  PasswordConfirmationDto,
  RecoveryCodesDto,
  TotpCodeDto,
  TotpSetupDto,
} from './dto/mfa.dto';
import { TokenResponseDto } from './dto/token-response.dto';
import { MfaService } from './mfa.service';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';

@ApiTags('auth')
@Controller('auth')
@NoImpersonation()
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Public()
  @Post('login/mfa')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Second sign-in step: TOTP or recovery code',
    description:
      'Public. The mfa_token is single use (right or wrong code) and lives 5 minutes. Codes cannot be replayed.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401)
  login(@Body() dto: MfaLoginDto): Promise<TokenResponseDto> {
    return this.mfa.completeLogin(dto.mfa_token, dto.code);
  }

  @Get('mfa')
  @ApiOperation({ summary: 'MFA status', description: 'Authenticated.' })
  @ApiOkResponse({ type: MfaStatusDto })
  @ApiAuthenticated()
  status(@CurrentUser() principal: UserPrincipal): Promise<MfaStatusDto> {
    return this.mfa.status(principal.userId);
  }

  @Post('mfa/totp/setup')
  @ApiOperation({
    summary: 'Start TOTP enrolment',
    description: 'Authenticated; needs the password. Not active until confirmed with /enable. 409 if already enabled.',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 409)
  setup(@CurrentUser() principal: UserPrincipal, @Body() dto: PasswordConfirmationDto): Promise<TotpSetupDto> {
    return this.mfa.setup(principal.userId, dto.password);
  }

  @Post('mfa/totp/enable')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Confirm TOTP with a code',
    description: 'Authenticated. Returns ten recovery codes, shown once.',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiAuthenticated()
  @ApiProblems(400, 409)
  async enable(@CurrentUser() principal: UserPrincipal, @Body() dto: TotpCodeDto): Promise<RecoveryCodesDto> {
    return { recoveryCodes: await this.mfa.enable(principal.userId, dto.code) };
  }

  @Post('mfa/totp/disable')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Turn TOTP off',
    description: 'Authenticated. Needs the password and a current code (or a recovery code).',
  })
  @ApiAuthenticated()
  @ApiProblems(400, 409)
  async disable(@CurrentUser() principal: UserPrincipal, @Body() dto: DisableTotpDto): Promise<void> {
    await this.mfa.disable(principal, dto.password, dto.code);
  }

  @Post('mfa/recovery-codes')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Replace the recovery codes',
    description: 'Authenticated. Needs the password; earlier codes stop working.',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiAuthenticated()
  @ApiProblems(400, 409)
  async regenerate(
    @CurrentUser() principal: UserPrincipal,
    @Body() dto: PasswordConfirmationDto,
  ): Promise<RecoveryCodesDto> {
    return { recoveryCodes: await this.mfa.regenerateRecoveryCodes(principal.userId, dto.password) };
  }
}
