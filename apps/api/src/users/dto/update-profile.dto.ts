import { NO_CONTROL_CHARACTERS } from '@app/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/** Only the name can change here; the email changes through a verified flow. */
export class UpdateProfileDto {
  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'fullName must not contain control characters' })
  fullName?: string;
}
