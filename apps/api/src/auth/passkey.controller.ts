import { CurrentUser, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { UuidParam, ValidationProblemException } from '@app/common';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';
import {
  PasskeyAssertionDto,
  PasskeyDto,
  PasskeyListDto,
  PasskeyMfaLoginDto,
  PasskeyMfaOptionsDto,
  RegisterPasskeyDto,
  RenamePasskeyDto,
  StepUpDto,
  StepUpStatusDto,
  WebAuthnOptionsDto,
} from './dto/passkey.dto';
import { TokenResponseDto } from './dto/token-response.dto';
import { PasskeyService } from './passkey.service';
import { StepUpService } from './step-up.service';

const STEP_UP =
  'Needs a recent sign-in or step-up (STEP_UP_MAX_AGE): otherwise 403 `step-up-required`; see POST /auth/step-up.';

type Options = Promise<WebAuthnOptionsDto>;

@ApiTags('passkeys')
@Controller('auth')
@NoImpersonation()
export class PasskeyController {
  constructor(
    private readonly passkeys: PasskeyService,
    private readonly stepUp: StepUpService,
  ) {}

  @Get('passkeys')
  @ApiOperation({ summary: 'Your passkeys', description: 'Authenticated. Public keys are never shown.' })
  @ApiOkResponse({ type: PasskeyListDto })
  @ApiAuthenticated()
  async list(@CurrentUser() principal: UserPrincipal): Promise<PasskeyListDto> {
    return { data: await this.passkeys.list(principal.userId) };
  }

  @Post('passkeys/registration/options')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Start registering a passkey',
    description: `Authenticated. ${STEP_UP} Returns options for navigator.credentials.create() (a discoverable credential with user verification); the challenge is single use. 409 \`too-many-passkeys\` at 20.`,
  })
  @ApiOkResponse({ type: WebAuthnOptionsDto })
  @ApiAuthenticated()
  @ApiProblems(403, 409)
  registrationOptions(@CurrentUser() principal: UserPrincipal): Options {
    return this.passkeys.registrationOptions(principal);
  }

  @Post('passkeys')
  @CredentialEndpoint()
  @ApiOperation({
    summary: 'Finish registering a passkey',
    description: `Authenticated. ${STEP_UP} The credential answers the options' challenge from this origin (WEBAUTHN_ORIGINS) with user verification. 409 \`passkey-already-registered\`.`,
  })
  @ApiCreatedResponse({ type: PasskeyDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 409)
  register(@CurrentUser() principal: UserPrincipal, @Body() dto: RegisterPasskeyDto): Promise<PasskeyDto> {
    return this.passkeys.register(principal, dto);
  }

  @Patch('passkeys/:passkeyId')
  @ApiOperation({ summary: 'Rename a passkey', description: 'Authenticated; your own passkeys only (404 otherwise).' })
  @ApiOkResponse({ type: PasskeyDto })
  @ApiAuthenticated()
  @ApiProblems(400, 404)
  rename(
    @CurrentUser() principal: UserPrincipal,
    @UuidParam('passkeyId') passkeyId: string,
    @Body() dto: RenamePasskeyDto,
  ): Promise<PasskeyDto> {
    return this.passkeys.rename(principal.userId, passkeyId, dto.name);
  }

  @Delete('passkeys/:passkeyId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a passkey', description: `Authenticated; your own passkeys only. ${STEP_UP}` })
  @ApiNoContentResponse()
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404)
  async remove(@CurrentUser() principal: UserPrincipal, @UuidParam('passkeyId') passkeyId: string): Promise<void> {
    await this.passkeys.remove(principal, passkeyId);
  }

  @Public()
  @Post('login/passkey/options')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Start a passkey sign-in',
    description:
      'Public. Options for navigator.credentials.get() with no allow-list: the browser offers the passkeys it has for this site. The challenge is single use.',
  })
  @ApiOkResponse({ type: WebAuthnOptionsDto })
  @ApiProblems(429)
  loginOptions(): Options {
    return this.passkeys.loginOptions();
  }

  @Public()
  @Post('login/passkey')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Sign in with a passkey',
    description:
      'Public. A passkey with user verification signs in alone, with no second step. 401 for an unknown passkey, a used or expired challenge, a wrong origin or RP id, a bad signature or a signature counter that went backwards (a cloned authenticator: audited as auth.passkey.clone_warning).',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401, 403, 429)
  login(@Body() dto: PasskeyAssertionDto): Promise<TokenResponseDto> {
    return this.passkeys.login(dto.credential);
  }

  @Public()
  @Post('login/mfa/passkey/options')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Second sign-in step with a passkey: options',
    description: "Public. Options listing the account's passkeys; the mfa_token is not spent. 409 `no-passkey`.",
  })
  @ApiOkResponse({ type: WebAuthnOptionsDto })
  @ApiProblems(400, 401, 409, 429)
  mfaOptions(@Body() dto: PasskeyMfaOptionsDto): Options {
    return this.passkeys.mfaOptions(dto.mfa_token);
  }

  @Public()
  @Post('login/mfa/passkey')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Second sign-in step with a passkey',
    description: 'Public. The mfa_token is single use (accepted or not); failures count toward the lockout.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401, 429)
  completeMfa(@Body() dto: PasskeyMfaLoginDto): Promise<TokenResponseDto> {
    return this.passkeys.completeMfa(dto.mfa_token, dto.credential);
  }

  @Get('step-up')
  @ApiOperation({
    summary: 'When this session last proved presence',
    description: 'Authenticated. Sensitive changes are allowed until validUntil.',
  })
  @ApiOkResponse({ type: StepUpStatusDto })
  @ApiAuthenticated()
  stepUpStatus(@CurrentUser() principal: UserPrincipal): Promise<StepUpStatusDto> {
    return this.stepUp.status(principal);
  }

  @Post('step-up/options')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Step up with a passkey: options',
    description: 'Authenticated. Options listing your passkeys, bound to this session. 409 `no-passkey`.',
  })
  @ApiOkResponse({ type: WebAuthnOptionsDto })
  @ApiAuthenticated()
  @ApiProblems(409)
  stepUpOptions(@CurrentUser() principal: UserPrincipal): Options {
    return this.passkeys.stepUpOptions(principal);
  }

  @Post('step-up')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Prove presence again (sudo mode)',
    description:
      'Authenticated. With `password` (a wrong one counts toward the lockout) plus `code` when the account has TOTP, or with `passkey` (an assertion to the step-up options, with user verification); an account whose second factor is a passkey steps up with the passkey. Sensitive changes are then allowed for STEP_UP_MAX_AGE.',
  })
  @ApiOkResponse({ type: StepUpStatusDto })
  @ApiAuthenticated()
  @ApiProblems(400)
  stepUpWith(@CurrentUser() principal: UserPrincipal, @Body() dto: StepUpDto): Promise<StepUpStatusDto> {
    if ((dto.password === undefined) === (dto.passkey === undefined)) {
      throw new ValidationProblemException([{ field: 'password', message: 'send either password or passkey' }]);
    }
    return dto.passkey
      ? this.passkeys.stepUpWith(principal, dto.passkey)
      : this.stepUp.withPassword(principal, dto.password ?? '', dto.code);
  }
}
