import { DisplayNameField, EmailField } from '../../common/dto-fields';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class RegisterDto {
  @EmailField()
  email!: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    description:
      'By default 10 to 128 characters, hard to guess, and not built from the email or name; a 400 names every rule broken.',
  })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({ example: 'Ann Example' })
  @IsOptional()
  @DisplayNameField()
  fullName?: string;
}
