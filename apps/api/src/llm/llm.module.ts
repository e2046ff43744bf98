import { Module } from '@nestjs/common';
import { LlmAdminController } from './llm-admin.controller';
import { LlmController } from './llm.controller';
import { LlmRequests } from './llm-requests.service';

/** The LLM routes; the provider seam itself is @app/llm. */
@Module({ controllers: [LlmController, LlmAdminController], providers: [LlmRequests] })
export class LlmApiModule {}
