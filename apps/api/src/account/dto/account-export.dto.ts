import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

export class AccountExportDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['pending', 'ready', 'downloaded', 'expired', 'cancelled'] })
  status!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ nullable: true, type: Date, description: 'When the archive was built and the link mailed.' })
  completedAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date, description: 'When the link (and the stored archive) stops working.' })
  expiresAt!: Date | null;

  @ApiProperty({ nullable: true, type: Date })
  downloadedAt!: Date | null;
}

export class AccountExportDownloadDto {
  @ApiProperty({ description: 'The token from the mailed link.' })
  @IsString()
  @MaxLength(200)
  @Matches(/^exp_[A-Za-z0-9_-]{20,}$/, { message: 'token is not an export token' })
  token!: string;
}
