import type { MachinePrincipal, Principal } from '@app/auth';
import { Injectable } from '@nestjs/common';
import type { Membership } from './permission-resolver';

/**
 * Decides what a caller of a module's own kind may do in an organization: its access there
 * (what the route may then rely on), or a thrown 403/404. Called only for routes that name their
 * permissions; routes that act for a person refuse every kind but users.
 */
export type PrincipalAuthorizer = (
  principal: MachinePrincipal,
  orgId: string,
  required: string[],
) => Promise<Membership>;

/**
 * The authorizers of caller kinds other than users and API keys, registered by the module that
 * adds the kind. A kind with none is refused everywhere (deny by default).
 */
@Injectable()
export class PrincipalAuthorizers {
  private readonly authorizers = new Map<string, PrincipalAuthorizer>();

  register(kind: string, authorizer: PrincipalAuthorizer): void {
    if (kind === 'user' || kind === 'apiKey') throw new Error(`"${kind}" is a built-in caller kind`);
    if (this.authorizers.has(kind)) throw new Error(`caller kind "${kind}" has an authorizer already`);
    this.authorizers.set(kind, authorizer);
  }

  for(principal: Principal): PrincipalAuthorizer | undefined {
    return this.authorizers.get(principal.kind);
  }
}
