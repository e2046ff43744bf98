import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class TotpSetupDto {
  @ApiProperty({ description: 'Base32 secret, for manual entry in an authenticator app.' })
  secret!: string;

  @ApiProperty({ example: 'otpauth://totp/SaaS:ann%40example.com?secret=…&issuer=SaaS' })
  otpauthUrl!: string;

  @ApiProperty({ description: 'The otpauth URL as a PNG QR code (data URL).' })
  qrCode!: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'The 6-digit code shown by the authenticator app.' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

export class MfaCodeDto {
  @ApiProperty({ example: '123456', description: 'A 6-digit TOTP code or a recovery code (xxxxx-xxxxx-xxxxx-xxxxx).' })
  @IsString()
  @MinLength(6)
  @MaxLength(40)
  code!: string;
}

export class MfaLoginDto extends MfaCodeDto {
  @ApiProperty({ description: 'The mfa_token from the login answer.' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  mfa_token!: string;
}

export class DisableTotpDto extends MfaCodeDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

export class PasswordConfirmationDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    description: 'Ten single-use codes (about 99 bits each). Shown once: store them safely.',
  })
  recoveryCodes!: string[];
}

export class MfaStatusDto {
  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ example: ['totp', 'recovery_code'] })
  methods!: string[];

  @ApiProperty()
  recoveryCodesRemaining!: number;
}
