import { Module } from '@nestjs/common';
import { JwksController } from './jwks.controller';

/** /.well-known routes, at the root outside /api/v1. */
@Module({ controllers: [JwksController] })
export class WellKnownModule {}
