import { CurrentUser, NoImpersonation, Public, type UserPrincipal } from '@app/auth';
import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MfaChallengeDto, TokenResponseDto } from '../auth/dto/token-response.dto';
import { ApiAuthenticated, ApiProblems } from '../openapi/api-errors.decorator';
import {
  AuthorizationUrlDto,
  AuthorizeQueryDto,
  BindingQueryDto,
  IdentityDto,
  OAuthCallbackDto,
  ProviderDto,
} from './dto/oauth.dto';
import { OAuthService } from './oauth.service';
import { FlowBinding } from './sign-in/flow-binding';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';

const SIGN_IN_RESPONSE = {
  description: 'Signed in (tokens), or the MFA step when the account has MFA.',
  schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
};
const CALLBACK_ERRORS =
  '400 invalid-state (unknown, used, expired, another provider’s, or started in another browser: send the flow cookie back, or bindingVerifier) or oauth-failed (code, token or ID token refused); 409 account-exists (an account has this email and the provider does not vouch for it: sign in and link); 503 provider-unavailable.';

@ApiTags('sign-in providers')
@ApiExtraModels(TokenResponseDto, MfaChallengeDto)
@Controller('auth')
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    private readonly binding: FlowBinding,
  ) {}

  @Get('providers')
  @Public()
  @ApiOperation({ summary: 'The enabled sign-in providers', description: 'Public.' })
  @ApiOkResponse({ type: [ProviderDto] })
  providers(): ProviderDto[] {
    return this.oauth.providers();
  }

  @Get('oauth/:provider/authorize')
  @Public()
  @ApiOperation({
    summary: 'Start signing in with a provider',
    description:
      'Public. Returns the provider URL to send the browser to (with ?redirect=true: a 302 to it). It carries a single-use state (OAUTH_STATE_TTL), PKCE S256 and, for OpenID Connect, a nonce. The state is bound to the caller: by an HttpOnly cookie set here (call with credentials), or to bindingChallenge. 404 for an unknown or disabled provider.',
  })
  @ApiOkResponse({ type: AuthorizationUrlDto })
  @ApiResponse({ status: 302, description: 'With ?redirect=true.' })
  @ApiProblems(400, 404, 503)
  async authorize(
    @Param('provider') provider: string,
    @Query() query: AuthorizeQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthorizationUrlDto | undefined> {
    const authorizationUrl = await this.oauth.authorize(provider, () =>
      this.binding.bind(request, reply, query.bindingChallenge),
    );
    if (query.redirect) {
      void reply.redirect(authorizationUrl, 302);
      return undefined;
    }
    return { authorizationUrl };
  }

  @Post('oauth/:provider/callback')
  @CredentialEndpoint()
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Finish signing in with a provider',
    description: `Public. Post what the provider put on the redirect URI. A known identity signs its user in; a new one signs up, or joins the account with its email when the provider vouches for the address. ${CALLBACK_ERRORS}`,
  })
  @ApiOkResponse(SIGN_IN_RESPONSE)
  @ApiProblems(400, 401, 404, 409, 503)
  callback(
    @Param('provider') provider: string,
    @Body() dto: OAuthCallbackDto,
    @Req() request: FastifyRequest,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.oauth.signIn(provider, dto, this.binding.presented(request, dto.bindingVerifier));
  }

  @Post('keycloak/callback')
  @CredentialEndpoint()
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Finish signing in with Keycloak',
    description: `Public. The same as POST /auth/oauth/keycloak/callback. ${CALLBACK_ERRORS}`,
  })
  @ApiOkResponse(SIGN_IN_RESPONSE)
  @ApiProblems(400, 401, 404, 409, 503)
  keycloakCallback(
    @Body() dto: OAuthCallbackDto,
    @Req() request: FastifyRequest,
  ): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.oauth.signIn('keycloak', dto, this.binding.presented(request, dto.bindingVerifier));
  }

  @NoImpersonation()
  @Get('oauth/:provider/link')
  @ApiOperation({
    summary: 'Start linking a provider to your account',
    description:
      'Authenticated. Like authorize, but the state is bound to you and to this browser (or bindingChallenge): only you can finish it, with POST …/link.',
  })
  @ApiOkResponse({ type: AuthorizationUrlDto })
  @ApiAuthenticated()
  @ApiProblems(403, 404, 503)
  async startLink(
    @CurrentUser() principal: UserPrincipal,
    @Param('provider') provider: string,
    @Query() query: BindingQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthorizationUrlDto> {
    const bind = () => this.binding.bind(request, reply, query.bindingChallenge);
    return { authorizationUrl: await this.oauth.authorize(provider, bind, principal.userId) };
  }

  @NoImpersonation()
  @Post('oauth/:provider/link')
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Finish linking a provider to your account',
    description:
      'Authenticated; the state must come from your own GET …/link. 409 identity-in-use when the identity belongs to another account. 400 invalid-state or oauth-failed.',
  })
  @ApiOkResponse({ type: IdentityDto })
  @ApiAuthenticated()
  @ApiProblems(400, 403, 404, 409, 503)
  link(
    @CurrentUser() principal: UserPrincipal,
    @Param('provider') provider: string,
    @Body() dto: OAuthCallbackDto,
    @Req() request: FastifyRequest,
  ): Promise<IdentityDto> {
    return this.oauth.link(principal, provider, dto, this.binding.presented(request, dto.bindingVerifier));
  }
}
