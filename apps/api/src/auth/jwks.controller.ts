import { AccessTokenService, Public } from '@app/auth';
import { Controller, Get, Header, NotFoundException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../openapi/api-errors.decorator';

/** Public keys for verifying access tokens elsewhere (RS256 only; HS256 keys are never published). */
@ApiTags('auth')
@Public()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly tokens: AccessTokenService) {}

  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOperation({
    summary: 'JSON Web Key Set',
    description:
      'Public. The RS256 public key when JWT_ALGORITHM=RS256; 404 with HS256 (a shared secret is never published).',
  })
  @ApiOkResponse({
    schema: { example: { keys: [{ kty: 'RSA', kid: '…', alg: 'RS256', use: 'sig', n: '…', e: 'AQAB' }] } },
  })
  @ApiProblems(404)
  jwks(): { keys: object[] } {
    const jwk = this.tokens.publicJwk();
    if (!jwk) throw new NotFoundException('Tokens are signed with HS256: there is no public key to publish.');
    return { keys: [jwk] };
  }
}
