import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** A one-time token from a mail (email verification). */
export class OneTimeTokenDto {
  @ApiProperty()
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  token!: string;
}
