import type { OrganizationDomain, SsoRoleMapping, SsoTeamMapping } from '@app/database';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { DisplayNameField, NoSpoofing, OmittableField, RoleIdsField } from '../../common/dto-fields';

/** SAML metadata and certificates are big, but bounded: this is what one body may carry. */
export const MAX_METADATA_CHARS = 200_000;
const MAX_CERTIFICATE_CHARS = 20_000;

export class SsoRoleMappingDto implements SsoRoleMapping {
  @ApiProperty({ example: 'groups', description: 'The assertion attribute to look at.' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  attribute!: string;

  @ApiProperty({ example: 'engineering-admins', description: 'The value that selects these roles.' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  value!: string;

  @ApiProperty({ type: [String], description: 'Organization roles given when the attribute has the value.' })
  @RoleIdsField()
  roleIds!: string[];
}

export class SsoTeamMappingDto implements SsoTeamMapping {
  @ApiProperty({ example: 'groups', description: 'The assertion attribute (or ID token claim) to look at.' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  attribute!: string;

  @ApiProperty({ example: 'platform-engineers', description: 'The value that selects these teams.' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  value!: string;

  @ApiProperty({
    type: [String],
    description: 'Teams of the organization a provisioned member joins (as team-member).',
  })
  @IsArray()
  @ArrayMaxSize(20)
  @IsUUID('all', { each: true, message: 'each teamId must be a UUID' })
  teamIds!: string[];
}

class SsoConnectionFields {
  @ApiPropertyOptional({
    description:
      'The IdP metadata XML (EntityDescriptor). Gives the entity id, the HTTP-Redirect SSO URL and the signing ' +
      'certificates; explicit fields below override it.',
    maxLength: MAX_METADATA_CHARS,
  })
  @OmittableField()
  @IsString()
  @MaxLength(MAX_METADATA_CHARS)
  metadataXml?: string;

  @ApiPropertyOptional({
    example: 'https://acme.okta.com/app/exk1abcd/sso/saml/metadata',
    description:
      'Where to fetch the IdP metadata XML instead (once, now; https in production; no private addresses ' +
      'unless SSO_METADATA_ALLOW_PRIVATE; no redirects).',
    maxLength: 2000,
  })
  @OmittableField()
  @IsUrl(
    { protocols: ['https', 'http'], require_protocol: true, require_tld: false },
    { message: 'metadataUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  metadataUrl?: string;

  @ApiPropertyOptional({ example: 'http://www.okta.com/exk1abcd', maxLength: 1000 })
  @OmittableField()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  idpEntityId?: string;

  @ApiPropertyOptional({ example: 'https://acme.okta.com/app/acme_saas/exk1abcd/sso/saml', maxLength: 2000 })
  @OmittableField()
  @IsUrl(
    { protocols: ['https', 'http'], require_protocol: true, require_tld: false },
    { message: 'idpSsoUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  idpSsoUrl?: string;

  @ApiPropertyOptional({ type: [String], description: 'PEM (or bare base64) signing certificates, at most 5.' })
  @OmittableField()
  @IsArray()
  @ArrayMaxSize(5)
  @IsString({ each: true })
  @MaxLength(MAX_CERTIFICATE_CHARS, { each: true })
  idpCertificates?: string[];

  @ApiPropertyOptional({
    example: 'https://acme.okta.com',
    description:
      'OpenID Connect connections: the issuer (discovery at <issuer>/.well-known/openid-configuration is checked ' +
      'now, through the same outbound guard as metadataUrl).',
    maxLength: 2000,
  })
  @OmittableField()
  @IsUrl(
    { protocols: ['https', 'http'], require_protocol: true, require_tld: false },
    { message: 'oidcIssuer must be an http(s) URL' },
  )
  @MaxLength(2000)
  oidcIssuer?: string;

  @ApiPropertyOptional({ description: 'OpenID Connect connections: the client id at the issuer.', maxLength: 500 })
  @OmittableField()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  oidcClientId?: string;

  @ApiPropertyOptional({
    description: 'OpenID Connect connections: the client secret (write-only: stored sealed, never shown).',
    maxLength: 2000,
    writeOnly: true,
  })
  @OmittableField()
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  oidcClientSecret?: string;

  @ApiPropertyOptional({
    example: 'openid email profile groups',
    description: 'OpenID Connect connections: scopes to ask for (must include openid); default openid email profile.',
    maxLength: 500,
  })
  @OmittableField()
  @IsString()
  @Matches(/^(?=.*(?:^| )openid(?: |$))[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, {
    message: 'oidcScopes must be space-separated scopes including openid',
  })
  @MaxLength(500)
  oidcScopes?: string;

  @ApiPropertyOptional({ description: 'SAML: let the IdP start sign-ins (its app tile) without a request of ours.' })
  @OmittableField()
  @IsBoolean()
  allowIdpInitiated?: boolean;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, description: 'Role of provisioned members; null: member.' })
  @IsOptional()
  @IsUUID('all', { message: 'defaultRoleId must be a UUID' })
  defaultRoleId?: string | null;

  @ApiPropertyOptional({ type: [SsoRoleMappingDto] })
  @OmittableField()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => SsoRoleMappingDto)
  roleMappings?: SsoRoleMappingDto[];

  @ApiPropertyOptional({
    type: [SsoTeamMappingDto],
    description: 'Teams a person joins at their first sign-in when the assertion (or ID token) has the value.',
  })
  @OmittableField()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => SsoTeamMappingDto)
  teamMappings?: SsoTeamMappingDto[];
}

export class CreateSsoConnectionDto extends SsoConnectionFields {
  @ApiProperty({ example: 'Okta' })
  @DisplayNameField()
  name!: string;

  @ApiPropertyOptional({ enum: ['saml', 'oidc'], default: 'saml', description: 'Fixed once created.' })
  @OmittableField()
  @IsIn(['saml', 'oidc'], { message: 'type must be saml or oidc' })
  type?: 'saml' | 'oidc';
}

export class UpdateSsoConnectionDto extends SsoConnectionFields {
  @ApiPropertyOptional()
  @OmittableField()
  @DisplayNameField()
  name?: string;

  @ApiPropertyOptional()
  @OmittableField()
  @IsBoolean()
  enabled?: boolean;
}

export class SsoCertificateDto {
  @ApiProperty({ description: 'SHA-256 fingerprint, colon-separated hex.' })
  fingerprint!: string;

  @ApiProperty({ nullable: true, type: String })
  subject!: string | null;

  @ApiProperty()
  notAfter!: Date;

  @ApiProperty()
  expired!: boolean;
}

export class SsoConnectionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  organizationId!: string;

  @ApiProperty({ enum: ['saml', 'oidc'] })
  type!: 'saml' | 'oidc';

  @ApiProperty()
  name!: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'SAML.' })
  idpEntityId!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'SAML.' })
  idpSsoUrl!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'OpenID Connect.' })
  oidcIssuer!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'OpenID Connect.' })
  oidcClientId!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'OpenID Connect; null: openid email profile.' })
  oidcScopes!: string | null;

  @ApiProperty({ type: [SsoCertificateDto] })
  idpCertificates!: SsoCertificateDto[];

  @ApiProperty()
  allowIdpInitiated!: boolean;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  defaultRoleId!: string | null;

  @ApiProperty({ type: [SsoRoleMappingDto] })
  roleMappings!: SsoRoleMappingDto[];

  @ApiProperty({ type: [SsoTeamMappingDto] })
  teamMappings!: SsoTeamMappingDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'SAML: what to enter in the IdP as the SP entity id (audience); also the SP metadata URL.',
  })
  spEntityId!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'SAML: what to enter in the IdP as the ACS (reply) URL.' })
  acsUrl!: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'OpenID Connect: the redirect (callback) URI to register with the client at the issuer.',
  })
  redirectUri!: string | null;

  @ApiProperty({ description: 'Where a sign-in through this connection starts (a 302 to the IdP).' })
  loginUrl!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;
}

export class CreateDomainDto {
  @ApiProperty({
    example: 'acme.com',
    description: 'A DNS name you control (lower-cased; no scheme, no trailing dot).',
  })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase().replace(/\.$/, '') : value,
  )
  @IsString()
  @MaxLength(253)
  @Matches(/^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z][a-z0-9-]{0,62}(?<!-)$/, {
    message: 'domain must be a DNS name with at least two labels, like acme.com',
  })
  domain!: string;
}

export class DomainDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  domain!: string;

  @ApiProperty({ enum: ['pending', 'verified'] })
  status!: 'pending' | 'verified';

  @ApiProperty({ description: 'Publish this TXT record, then POST …/verify.' })
  txtRecord!: { name: string; value: string };

  @ApiProperty({ nullable: true, type: Date })
  verifiedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  lastCheckedAt!: Date | null;

  @ApiProperty()
  createdAt!: Date;

  static from(row: OrganizationDomain, record: { name: string; value: string }): DomainDto {
    return {
      id: row.id,
      domain: row.domain,
      status: row.verifiedAt ? 'verified' : 'pending',
      txtRecord: record,
      verifiedAt: row.verifiedAt,
      lastCheckedAt: row.lastCheckedAt,
      createdAt: row.createdAt,
    };
  }
}

export class SsoEnforcementDto {
  @ApiProperty({ description: 'Members in the verified domains must sign in through a connection.' })
  @IsBoolean()
  enforced!: boolean;

  @ApiPropertyOptional({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'An owner who may still sign in another way (audited each time); null: none.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'breakGlassUserId must be a UUID' })
  breakGlassUserId?: string | null;
}

export class DiscoverDto {
  @ApiProperty({ example: 'ann@acme.com' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail({}, { message: 'email must be an email address' })
  @NoSpoofing()
  @MaxLength(320)
  email!: string;
}

export class DiscoveryDto {
  @ApiProperty({ description: 'Whether this address signs in through single sign-on.' })
  sso!: boolean;

  @ApiPropertyOptional({ format: 'uuid' })
  connectionId?: string;

  @ApiPropertyOptional({ description: 'Send the browser here to sign in.' })
  loginUrl?: string;
}

export class AuthorizeSsoQueryDto {
  @ApiPropertyOptional({
    description: 'A page of your front end on APP_URL or a CORS_ORIGINS origin; default SSO_RETURN_URL.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  returnTo?: string;
}

export class SsoTokenDto {
  @ApiProperty({ description: 'The sso_code the sign-in returned with (single use, 60 seconds).' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  code!: string;
}
