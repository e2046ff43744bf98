import { Module } from '@nestjs/common';
import { EventStreams } from './event-streams';
import { EventsStreamController } from './events-stream.controller';

/** The realtime stream of an organization's domain events (Server-Sent Events). */
@Module({ controllers: [EventsStreamController], providers: [EventStreams] })
export class EventsStreamModule {}
