import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class LogoutDto {
  @ApiPropertyOptional({ description: 'Optional; the session ended is always the one of the access token.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  refresh_token?: string;
}
