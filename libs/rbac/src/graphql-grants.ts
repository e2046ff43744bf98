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

/** Which field a refused GraphQL call was, and in which organization (when known). */
export interface RefusalScope {
  organizationId: string | undefined;
  /** `Parent.field` as the schema names it (not the client's alias or list index). */
  field: string;
}

const refusals = new WeakMap<object, RefusalScope>();

/** Notes where a GraphQL field was refused, for the refusal's audit row (the first note wins). */
export function noteRefusalScope(error: unknown, scope: RefusalScope): void {
  if (typeof error === 'object' && error !== null && !refusals.has(error)) refusals.set(error, scope);
}

export function refusalScope(error: unknown): RefusalScope | undefined {
  return typeof error === 'object' && error !== null ? refusals.get(error) : undefined;
}
