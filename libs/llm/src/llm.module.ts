import { Global, Module } from '@nestjs/common';
import { LlmService } from './llm.service';
import { OrganizationLlm } from './organization-llm';

/** The LLM provider seam, for the api's routes and the worker's LLM jobs. */
@Global()
@Module({ providers: [LlmService, OrganizationLlm], exports: [LlmService, OrganizationLlm] })
export class LlmModule {}
