import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsArray,
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const base64url = (field: string) => ({ message: `${field} must be base64url` });

/** What the browser's `navigator.credentials` answers carry in common (WebAuthn Level 3, toJSON()). */
abstract class PublicKeyCredentialJsonDto {
  @ApiProperty({ description: 'The credential id, base64url.' })
  @IsString()
  @MinLength(16)
  @MaxLength(1400)
  @Matches(BASE64URL, base64url('id'))
  id!: string;

  @ApiProperty({ description: 'The same id (the browser sends both).' })
  @IsString()
  @MaxLength(1400)
  @Matches(BASE64URL, base64url('rawId'))
  rawId!: string;

  @ApiProperty({ enum: ['public-key'] })
  @Equals('public-key', { message: "type must be 'public-key'" })
  type!: 'public-key';

  @ApiPropertyOptional({ enum: ['platform', 'cross-platform'] })
  @IsOptional()
  @IsIn(['platform', 'cross-platform'])
  authenticatorAttachment?: 'platform' | 'cross-platform';

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Extension outputs; may be empty.' })
  @IsObject()
  clientExtensionResults!: Record<string, unknown>;
}

export class AttestationResponseJsonDto {
  @ApiProperty({ description: 'base64url' })
  @IsString()
  @MaxLength(4096)
  @Matches(BASE64URL, base64url('clientDataJSON'))
  clientDataJSON!: string;

  @ApiProperty({ description: 'base64url CBOR' })
  @IsString()
  @MaxLength(65536)
  @Matches(BASE64URL, base64url('attestationObject'))
  attestationObject!: string;

  @ApiPropertyOptional({ type: [String], example: ['internal', 'hybrid'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsIn(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'], { each: true })
  transports?: string[];
}

export class RegistrationCredentialDto extends PublicKeyCredentialJsonDto {
  @ApiProperty({ type: AttestationResponseJsonDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => AttestationResponseJsonDto)
  response!: AttestationResponseJsonDto;
}

export class AssertionResponseJsonDto {
  @ApiProperty({ description: 'base64url' })
  @IsString()
  @MaxLength(4096)
  @Matches(BASE64URL, base64url('clientDataJSON'))
  clientDataJSON!: string;

  @ApiProperty({ description: 'base64url' })
  @IsString()
  @MaxLength(4096)
  @Matches(BASE64URL, base64url('authenticatorData'))
  authenticatorData!: string;

  @ApiProperty({ description: 'base64url' })
  @IsString()
  @MaxLength(2048)
  @Matches(BASE64URL, base64url('signature'))
  signature!: string;

  @ApiPropertyOptional({ description: 'base64url; the user handle of a discoverable credential.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(BASE64URL, base64url('userHandle'))
  userHandle?: string;
}

export class AuthenticationCredentialDto extends PublicKeyCredentialJsonDto {
  @ApiProperty({ type: AssertionResponseJsonDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => AssertionResponseJsonDto)
  response!: AssertionResponseJsonDto;
}

export class RegisterPasskeyDto {
  @ApiProperty({
    type: RegistrationCredentialDto,
    description: "The answer of navigator.credentials.create() to the options' challenge (its toJSON()).",
  })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => RegistrationCredentialDto)
  credential!: RegistrationCredentialDto;

  @ApiPropertyOptional({ example: 'Work laptop', description: 'A name for the list; default "Passkey".' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;
}

export class PasskeyAssertionDto {
  @ApiProperty({
    type: AuthenticationCredentialDto,
    description: "The answer of navigator.credentials.get() to the options' challenge (its toJSON()).",
  })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationCredentialDto)
  credential!: AuthenticationCredentialDto;
}

export class PasskeyMfaLoginDto extends PasskeyAssertionDto {
  @ApiProperty({ description: 'The mfa_token from the login answer.' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  mfa_token!: string;
}

export class PasskeyMfaOptionsDto {
  @ApiProperty({ description: 'The mfa_token from the login answer (not spent by this call).' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  mfa_token!: string;
}

export class RenamePasskeyDto {
  @ApiProperty({ example: 'Phone' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;
}

export class StepUpDto {
  @ApiPropertyOptional({ description: 'The account password. Send this or `passkey`, not both.' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({
    example: '123456',
    description: 'With `password`, when the account has TOTP: a current code or a recovery code.',
  })
  @IsOptional()
  @IsString()
  @MinLength(6)
  @MaxLength(40)
  code?: string;

  @ApiPropertyOptional({
    type: AuthenticationCredentialDto,
    description: 'An assertion to the challenge of POST /auth/step-up/options.',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationCredentialDto)
  passkey?: AuthenticationCredentialDto;
}

export class PasskeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Work laptop' })
  name!: string;

  @ApiProperty({ enum: ['singleDevice', 'multiDevice'], description: 'multiDevice: synced by a platform.' })
  deviceType!: string;

  @ApiProperty({ description: 'Whether the passkey is backed up (synced) as of its last use.' })
  backedUp!: boolean;

  @ApiProperty({ type: [String], example: ['internal', 'hybrid'] })
  transports!: string[];

  @ApiProperty({ description: 'The authenticator model (AAGUID); all zeros when it does not say.' })
  aaguid!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ nullable: true, type: Date })
  lastUsedAt!: Date | null;
}

export class PasskeyListDto {
  @ApiProperty({ type: [PasskeyDto] })
  data!: PasskeyDto[];
}

export class StepUpStatusDto {
  @ApiProperty({ description: 'When the session last proved presence (sign-in or step-up).' })
  verifiedAt!: Date;

  @ApiProperty({ description: 'Until when sensitive changes are allowed without a new step-up.' })
  validUntil!: Date;
}

/**
 * WebAuthn options for the browser, as JSON (PublicKeyCredentialCreationOptionsJSON or
 * PublicKeyCredentialRequestOptionsJSON): pass them to `PublicKeyCredential.parse*OptionsFromJSON`.
 */
export class WebAuthnOptionsDto {
  @ApiProperty({ description: 'base64url; single use, valid for WEBAUTHN_CHALLENGE_TTL.' })
  challenge!: string;

  @ApiPropertyOptional({ description: 'Milliseconds the browser may wait for the user.' })
  timeout?: number;

  @ApiPropertyOptional({
    description: 'Creation options: the relying party.',
    type: 'object',
    additionalProperties: true,
  })
  rp?: object;

  @ApiPropertyOptional({ description: 'Creation options: the account.', type: 'object', additionalProperties: true })
  user?: object;

  @ApiPropertyOptional({ description: 'Request options: the relying party id.' })
  rpId?: string;

  @ApiPropertyOptional({
    description: 'Request options: the credentials that may answer (empty: any discoverable passkey).',
    type: 'array',
    items: { type: 'object', additionalProperties: true },
  })
  allowCredentials?: object[];

  @ApiPropertyOptional({ enum: ['required', 'preferred', 'discouraged'] })
  userVerification?: string;
}
