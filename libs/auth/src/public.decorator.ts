import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

export const IS_PUBLIC = 'app:is-public';

/** Opts a route (or controller) out of authentication. Everything else is denied by default. */
export function Public(): MethodDecorator & ClassDecorator {
  // An empty security requirement tells OpenAPI readers that no credentials are needed.
  return applyDecorators(SetMetadata(IS_PUBLIC, true), ApiSecurity({}));
}
