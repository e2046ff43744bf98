import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';

export class StartImpersonationDto {
  @ApiProperty({ format: 'uuid', description: 'The person to act as (not a platform admin, not deactivated).' })
  @IsUUID()
  userId!: string;

  @ApiProperty({
    example: 'Ticket 4521: the customer cannot see their team',
    description: 'Why; kept in the audit log and shown to the person.',
  })
  @IsString()
  @MinLength(10)
  @MaxLength(500)
  reason!: string;

  @ApiPropertyOptional({ default: false, description: 'Allow changes (audited as such); read-only otherwise.' })
  @IsOptional()
  @IsBoolean()
  write?: boolean;

  @ApiPropertyOptional({
    example: 15,
    description: 'Minutes it lasts: IMPERSONATION_DEFAULT_MINUTES unless given, at most IMPERSONATION_MAX_MINUTES.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1440)
  minutes?: number;
}

export class ImpersonationDto {
  @ApiProperty({ description: 'Access token of the session; `act.sub` names you. No refresh token.' })
  access_token!: string;

  @ApiProperty({ example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ description: 'Seconds the access token lives (at most the access-token lifetime).' })
  expires_in!: number;

  @ApiProperty({ format: 'uuid' })
  session_id!: string;

  @ApiProperty({ format: 'uuid' })
  user_id!: string;

  @ApiProperty()
  write!: boolean;

  @ApiProperty({ description: 'When the impersonation ends.' })
  expires_at!: Date;
}
