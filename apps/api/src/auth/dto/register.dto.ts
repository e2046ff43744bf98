import { EmailField } from '../../common/dto-fields';
import { NO_CONTROL_CHARACTERS } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class RegisterDto {
  @EmailField()
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', description: 'See the password policy in the README.' })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(NO_CONTROL_CHARACTERS, { message: 'fullName must not contain control characters' })
  fullName?: string;
}
