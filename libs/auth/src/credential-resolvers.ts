import { Injectable } from '@nestjs/common';
import type { Principal } from './principal';

/** Turns a bearer credential with this prefix into a caller, or undefined when it is not a live one. */
export interface CredentialResolver {
  /** The credential's recognisable prefix (`scim_`, …): also what secret scanners look for. */
  prefix: string;
  authenticate(credential: string): Promise<Principal | undefined>;
}

/**
 * The bearer credentials a module adds beside access tokens and API keys. The authentication
 * guard asks the resolver whose prefix the credential carries; a module registers one at start
 * (onModuleInit). Prefixes may not overlap.
 */
@Injectable()
export class CredentialResolvers {
  private readonly resolvers: CredentialResolver[] = [];

  register(resolver: CredentialResolver): void {
    if (!/^[a-z][a-z0-9]{1,15}_$/.test(resolver.prefix)) {
      throw new Error(`credential prefix "${resolver.prefix}" must be lowercase letters and digits ending in _`);
    }
    const clash = this.resolvers.find(
      (existing) => existing.prefix.startsWith(resolver.prefix) || resolver.prefix.startsWith(existing.prefix),
    );
    if (clash) throw new Error(`credential prefix "${resolver.prefix}" overlaps "${clash.prefix}"`);
    this.resolvers.push(resolver);
  }

  for(credential: string): CredentialResolver | undefined {
    return this.resolvers.find((resolver) => credential.startsWith(resolver.prefix));
  }
}
