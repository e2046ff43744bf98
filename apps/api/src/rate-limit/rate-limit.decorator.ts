import { SetMetadata } from '@nestjs/common';

export const CREDENTIAL_ENDPOINT = 'app:credential-endpoint';

/**
 * A route that checks a secret (password, code, token): besides the general limit, it gets the
 * strict AUTH_RATE_LIMIT_PER_MINUTE per client address and per target account.
 */
export const CredentialEndpoint = (): MethodDecorator => SetMetadata(CREDENTIAL_ENDPOINT, true);
