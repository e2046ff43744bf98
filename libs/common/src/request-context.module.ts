import { Global, Module } from '@nestjs/common';
import { ClsService, ClsServiceManager } from 'nestjs-cls';

/**
 * The request context (nestjs-cls's ClsService over AsyncLocalStorage) for every module, without
 * `ClsModule.forRoot`: that always registers a global guard and a global interceptor, no-ops when
 * not mounted, and the interceptor alone pulls every request through Nest's rxjs chain. Contexts
 * are opened by the api's Fastify hook (apps/api/src/request-context.ts) and by the job drivers.
 */
@Global()
@Module({
  providers: [{ provide: ClsService, useFactory: () => ClsServiceManager.getClsService() }],
  exports: [ClsService],
})
export class RequestContextModule {}
