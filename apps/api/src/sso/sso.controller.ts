import { Public } from '@app/auth';
import { ProblemException, UuidParam } from '@app/common';
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MfaChallengeDto, TokenResponseDto } from '../auth/dto/token-response.dto';
import { ApiProblems } from '../openapi/api-errors.decorator';
import { CredentialEndpoint } from '../rate-limit/rate-limit.decorator';
import { AuthorizeSsoQueryDto, DiscoverDto, DiscoveryDto, SsoTokenDto } from './dto/sso.dto';
import { FlowBinding } from '../oauth/sign-in/flow-binding';
import { SsoSignInRefused, SsoSignInService, type BrowserBinding, type OidcCallbackQuery } from './sso-sign-in.service';

/** Sends the browser where the sign-in ended: the front end with a code, or with `sso_error`; 400 with nowhere to go. */
async function sendBrowser(reply: FastifyReply, signIn: () => Promise<string>): Promise<void> {
  try {
    void reply.redirect(await signIn(), 303);
  } catch (error) {
    if (!(error instanceof SsoSignInRefused)) throw error;
    if (!error.returnTo) {
      throw new ProblemException({
        status: HttpStatus.BAD_REQUEST,
        slug: 'sso-refused',
        title: 'Bad Request',
        detail: `Single sign-on refused: ${error.code}.`,
        extensions: { code: error.code },
      });
    }
    const target = new URL(error.returnTo);
    target.searchParams.set('sso_error', error.code);
    void reply.redirect(target.toString(), 303);
  }
}

/** The public side of single sign-on: what the IdP and the browser talk to. */
@ApiTags('single sign-on')
@ApiExtraModels(TokenResponseDto, MfaChallengeDto)
@Controller()
export class SsoController {
  constructor(
    private readonly signIn: SsoSignInService,
    private readonly binding: FlowBinding,
  ) {}

  /** The browser's flow cookie as it came, and a way to (re)issue it on this answer. */
  private browser(request: FastifyRequest, reply: FastifyReply): BrowserBinding {
    return { presented: this.binding.presented(request), bind: () => this.binding.bind(request, reply) };
  }

  @Post('sso/discover')
  @Public()
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Does this address sign in with single sign-on?',
    description:
      'Public. `{sso: true, connectionId, loginUrl}` when the address is in a verified domain of an organization ' +
      'with an enabled connection; `{sso: false}` otherwise (unverified and unknown domains look the same).',
  })
  @ApiOkResponse({ type: DiscoveryDto })
  @ApiProblems(400, 429)
  async discover(@Body() dto: DiscoverDto): Promise<DiscoveryDto> {
    const found = await this.signIn.discover(dto.email);
    return found ? { sso: true, ...found } : { sso: false };
  }

  @Get('sso/:connectionId/authorize')
  @Public()
  @ApiOperation({
    summary: 'Start signing in through a connection',
    description:
      'Public. A 302 to the IdP: for SAML an AuthnRequest (HTTP-Redirect binding) with a single-use RelayState, ' +
      'for OpenID Connect an authorization request with PKCE S256, state and nonce. The IdP answers at the ACS ' +
      '(SAML) or the redirect URI (OIDC), which send the browser to `returnTo` (default SSO_RETURN_URL) with ' +
      '`?sso_code=…` for POST /auth/sso/token, or `?sso_error=<code>`.',
  })
  @ApiResponse({ status: 302, description: 'To the IdP.' })
  @ApiProblems(400, 404, 429)
  async authorize(
    @UuidParam('connectionId') connectionId: string,
    @Query() query: AuthorizeSsoQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const url = await this.signIn.authorize(connectionId, query.returnTo, () => this.binding.bind(request, reply));
    void reply.redirect(url, 302);
  }

  @Get('sso/saml/:connectionId/metadata')
  @Public()
  @ApiOperation({
    summary: 'Service-provider metadata of a connection',
    description: 'Public. Give this URL (or the XML) to the IdP: entity id, ACS URL, NameID format.',
  })
  @ApiProduces('application/samlmetadata+xml')
  @ApiResponse({ status: 200, description: 'SAML metadata XML.' })
  @ApiProblems(400, 404, 429)
  async metadata(
    @UuidParam('connectionId') connectionId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const xml = await this.signIn.metadata(connectionId);
    if (!xml) {
      throw new ProblemException({
        status: HttpStatus.NOT_FOUND,
        slug: 'unknown-connection',
        title: 'Not Found',
        detail: 'No single sign-on connection has this id.',
      });
    }
    void reply.type('application/samlmetadata+xml; charset=utf-8');
    return xml;
  }

  @Post('sso/saml/:connectionId/acs')
  @Public()
  @CredentialEndpoint()
  @ApiOperation({
    summary: 'Assertion consumer (the IdP posts here)',
    description:
      'Public; `application/x-www-form-urlencoded` with `SAMLResponse` and `RelayState` (HTTP-POST binding). ' +
      'A 303 to the front end with `sso_code` (60 seconds, single use) or `sso_error`: one of malformed, ' +
      'too-large, dtd-forbidden, unsigned, bad-signature, wrong-issuer, wrong-audience, wrong-recipient, expired, ' +
      'not-yet-valid, unknown-request, replayed, idp-initiated-disabled, status-not-success, no-email, other-browser, ' +
      'domain-not-verified, account-deactivated, deprovisioned, unknown-connection. Each refusal is audited (`auth.sso.login`). ' +
      'Without a usable RelayState and no default to return to, a refusal is 400 problem+json.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      properties: { SAMLResponse: { type: 'string' }, RelayState: { type: 'string' } },
      required: ['SAMLResponse'],
    },
  })
  @ApiResponse({ status: 303, description: 'To the front end.' })
  @ApiProblems(400, 415, 429)
  async acs(
    @UuidParam('connectionId') connectionId: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const form = (request.body ?? {}) as Record<string, unknown>;
    await sendBrowser(reply, () =>
      this.signIn.acs(connectionId, form.SAMLResponse, form.RelayState, this.browser(request, reply)),
    );
  }

  @Get('sso/oidc/:connectionId/callback')
  @Public()
  @CredentialEndpoint()
  @ApiOperation({
    summary: 'Redirect URI of an OpenID Connect connection (the issuer sends the browser here)',
    description:
      'Public; `code`, `state`, `iss` or `error` in the query, as the issuer sends them. A 303 to the front end ' +
      'with `sso_code` (60 seconds, single use) or `sso_error`: one of invalid-state (unknown, used, expired or ' +
      'another connection’s state), other-browser (started in another browser), idp-refused, idp-unavailable, oidc-failed (code or ID token refused), ' +
      'no-email, domain-not-verified, account-deactivated, deprovisioned (the organization’s directory removed ' +
      'them), malformed (no code), unknown-connection. Each refusal is audited (`auth.sso.login`).',
  })
  @ApiResponse({ status: 303, description: 'To the front end.' })
  @ApiProblems(400, 429)
  async oidcCallback(
    @UuidParam('connectionId') connectionId: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const pick = (name: string, max: number) => {
      const value = query[name];
      return typeof value === 'string' && value.length <= max ? value : undefined;
    };
    const callback: OidcCallbackQuery = {};
    for (const [name, max] of [
      ['code', 2048],
      ['state', 128],
      ['iss', 2048],
      ['error', 200],
    ] as const) {
      const value = pick(name, max);
      if (value !== undefined) callback[name] = value;
    }
    await sendBrowser(reply, () => this.signIn.oidcCallback(connectionId, callback, this.browser(request, reply)));
  }

  @Post('auth/sso/token')
  @Public()
  @CredentialEndpoint()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Finish signing in through single sign-on',
    description:
      'Public. Exchanges the `sso_code` the browser came back with for tokens (or the MFA step when the account ' +
      'has MFA). Send it with credentials: the code is bound to the browser the sign-in came back to (its ' +
      'flow cookie). 400 invalid-sso-code when unknown, used, expired or brought by another browser.',
  })
  @ApiOkResponse({
    description: 'Signed in (tokens), or the MFA step.',
    schema: { oneOf: [{ $ref: getSchemaPath(TokenResponseDto) }, { $ref: getSchemaPath(MfaChallengeDto) }] },
  })
  @ApiProblems(400, 429)
  token(@Body() dto: SsoTokenDto, @Req() request: FastifyRequest): Promise<TokenResponseDto | MfaChallengeDto> {
    return this.signIn.exchange(dto.code, this.binding.presented(request));
  }
}
