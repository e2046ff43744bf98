import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUrl, Matches, MaxLength, MinLength } from 'class-validator';

export class ProviderDto {
  @ApiProperty({
    example: 'google',
    description: 'The built-in ones: google, microsoft, github, keycloak, oidc; a module may add its own.',
  })
  id!: string;

  @ApiProperty({ example: 'Google' })
  name!: string;

  @ApiProperty({ example: 'oidc', description: 'oidc or oauth2 for the built-in ones; free text for a module’s own.' })
  type!: string;
}

const BINDING_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const BINDING_VERIFIER = /^[A-Za-z0-9_-]{43,128}$/;

/** How a front end that keeps its own secret binds a flow to itself (instead of the cookie). */
export class BindingQueryDto {
  @ApiPropertyOptional({
    description:
      'For a front end that keeps its own secret: base64url(SHA-256(verifier)) of a random verifier it holds; ' +
      'the callback must then carry bindingVerifier. Without it the flow is bound to this browser by an ' +
      'HttpOnly cookie (saas_flow, __Host-saas_flow on https) that the callback must send back.',
    example: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  })
  @IsOptional()
  @Matches(BINDING_CHALLENGE, { message: 'bindingChallenge must be 43 base64url characters (a SHA-256)' })
  bindingChallenge?: string;
}

export class AuthorizeQueryDto extends BindingQueryDto {
  @ApiPropertyOptional({ description: 'true: answer 302 to the provider instead of JSON.' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'redirect must be true or false' })
  redirect?: boolean;
}

export class AuthorizationUrlDto {
  @ApiProperty({ example: 'https://accounts.google.com/o/oauth2/v2/auth?client_id=…&state=…' })
  authorizationUrl!: string;
}

/** What the provider put on the redirect URI: forward `code`, `state` and, if present, `iss`. */
export class OAuthCallbackDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  code!: string;

  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{16,128}$/, { message: 'state is not one this api issued' })
  state!: string;

  @ApiPropertyOptional({ description: 'The iss parameter of the redirect (RFC 9207), when the provider sends one.' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'iss must be a URL' })
  @MaxLength(2048)
  iss?: string;

  @ApiPropertyOptional({
    description: 'The verifier whose hash was sent as bindingChallenge when the flow started (else the cookie counts).',
  })
  @IsOptional()
  @Matches(BINDING_VERIFIER, { message: 'bindingVerifier must be 43 to 128 base64url characters' })
  bindingVerifier?: string;
}

export class IdentityDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'github' })
  provider!: string;

  @ApiProperty({ nullable: true, type: String })
  email!: string | null;

  @ApiProperty()
  emailVerified!: boolean;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ nullable: true, type: Date })
  lastUsedAt!: Date | null;
}
