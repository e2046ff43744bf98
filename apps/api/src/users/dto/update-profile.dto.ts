import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

/** Only the name can change here; the email changes through a verified flow. */
export class UpdateProfileDto {
  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  fullName?: string;
}
