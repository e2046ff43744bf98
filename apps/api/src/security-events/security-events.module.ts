import { Module } from '@nestjs/common';
import { RefusalRecorder } from './refusal-recorder';
import { SecurityEventsController } from './security-events.controller';

@Module({ controllers: [SecurityEventsController], providers: [RefusalRecorder], exports: [RefusalRecorder] })
export class SecurityEventsModule {}
