import { ApiProperty } from '@nestjs/swagger';

export class ImpersonatorDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  email!: string;
}

export class SessionImpersonationDto {
  @ApiProperty({ type: ImpersonatorDto, description: 'The platform admin acting as you.' })
  by!: ImpersonatorDto;

  @ApiProperty({ description: 'The reason they gave.' })
  reason!: string;

  @ApiProperty({ description: 'Whether they may change anything (read-only otherwise).' })
  write!: boolean;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  lastUsedAt!: Date;

  @ApiProperty({ description: 'The end of the session, whatever its activity.' })
  expiresAt!: Date;

  @ApiProperty({ nullable: true, type: String })
  ip!: string | null;

  @ApiProperty({ nullable: true, type: String })
  userAgent!: string | null;

  @ApiProperty({ description: 'True for the session of the access token used for this request.' })
  current!: boolean;

  @ApiProperty({
    type: SessionImpersonationDto,
    nullable: true,
    description: 'Set when a platform admin opened this session to act as you (support).',
  })
  impersonation!: SessionImpersonationDto | null;
}
