import { Module } from '@nestjs/common';
import { QueueBoardController } from './queue-board.controller';

/** Bull Board's session route; the board itself is mounted on Fastify by mountQueueBoard (bootstrap). */
@Module({ controllers: [QueueBoardController] })
export class QueueBoardModule {}
