import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ProblemDetailsDto } from '../openapi/problem-details.dto';

export const CREDENTIAL_ENDPOINT = 'app:credential-endpoint';

/**
 * A route that checks a secret (password, code, token): besides the general limit, it gets the
 * strict AUTH_RATE_LIMIT_PER_MINUTE per client address and per target account.
 */
export const CredentialEndpoint = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(CREDENTIAL_ENDPOINT, true),
    ApiResponse({
      status: 429,
      type: ProblemDetailsDto,
      description: 'Too many attempts from this address or on this account (AUTH_RATE_LIMIT_PER_MINUTE).',
    }),
  );
