import type { Principal } from '@app/auth';
import type { Membership } from './permission-resolver';

/** What the authorization guard let one GraphQL field do: in which organization, for whom, with what. */
export interface FieldGrant {
  organizationId: string;
  principal: Principal;
  access: Membership;
}

/**
 * Grants keyed by the field's `info` object, which graphql-js makes once per field resolution and
 * Nest hands to the guard and then to the resolver. Weak, so nothing outlives the operation.
 */
const grants = new WeakMap<object, FieldGrant>();

export function grantField(info: object, grant: FieldGrant): void {
  grants.set(info, grant);
}

/** The grant of this field resolution, if the guard gave one (fields that name permissions). */
export function fieldGrant(info: object): FieldGrant | undefined {
  return grants.get(info);
}

const refusals = new WeakMap<object, string>();

/** Notes the organization a refused GraphQL field was about, for the refusal's audit row. */
export function noteRefusalScope(error: unknown, organizationId: string | undefined): void {
  if (organizationId && typeof error === 'object' && error !== null && !refusals.has(error)) {
    refusals.set(error, organizationId);
  }
}

export function refusalScope(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? refusals.get(error) : undefined;
}
