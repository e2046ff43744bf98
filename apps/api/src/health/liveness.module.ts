import { Module } from '@nestjs/common';
import { LivenessController } from './liveness.controller';

/** Liveness at the root, outside the versioned API. */
@Module({ controllers: [LivenessController] })
export class LivenessModule {}
