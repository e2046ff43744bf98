import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token from the last token response.' })
  @IsString()
  @MaxLength(200)
  refresh_token!: string;
}
