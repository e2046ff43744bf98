import { ApiProperty } from '@nestjs/swagger';

/** RFC 6749 token response. */
export class TokenResponseDto {
  @ApiProperty({ description: 'JWT access token (HS256).' })
  access_token!: string;

  @ApiProperty({ description: 'Opaque refresh token; single use, rotated on every refresh.' })
  refresh_token!: string;

  @ApiProperty({ example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ example: 900, description: 'Access token lifetime in seconds.' })
  expires_in!: number;
}

/** Login answer when the account has MFA: no tokens yet. */
export class MfaChallengeDto {
  @ApiProperty({ example: true })
  mfa_required!: true;

  @ApiProperty({
    description:
      'Single use, valid MFA_TOKEN_TTL (5 minutes); send it with a code to /auth/login/mfa, or with a passkey ' +
      'assertion to /auth/login/mfa/passkey (options from /auth/login/mfa/passkey/options).',
  })
  mfa_token!: string;

  @ApiProperty({ example: ['totp', 'recovery_code', 'passkey'] })
  methods!: string[];
}
