import { Module } from '@nestjs/common';
import { MemberMailer } from './member-mailer';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';

@Module({ controllers: [MembersController], providers: [MembersService, MemberMailer], exports: [MembersService] })
export class MembersModule {}
