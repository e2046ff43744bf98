import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { DisplayNameField } from '../../common/dto-fields';

/** Only the name can change here; the email changes through a verified flow. */
export class UpdateProfileDto {
  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @DisplayNameField()
  fullName?: string;
}
