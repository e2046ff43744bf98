import { DisplayNameField, EmailField } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class RegisterDto {
  @EmailField()
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', description: 'See the password policy in the README.' })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @DisplayNameField()
  fullName?: string;
}
