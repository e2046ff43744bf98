import type { AuditActor } from '@app/audit';
import { NO_CONTROL_CHARACTERS } from '@app/common';
import type { ScimPrincipal } from './scim-access';
import { scimError } from './scim-errors';

/** What Users and Groups share: paging numbers, versions, the actor, text values and PatchOp bodies. */

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A resource's ETag: W/"<version>". */
export function etagOf(row: { version: number }): string {
  return `W/"${row.version}"`;
}

/** If-Match: `*`, or one of the listed tags must be the resource's; else 412. */
export function checkVersion(row: { version: number }, ifMatch: string | undefined): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const wanted = ifMatch.split(',').map((tag) => tag.trim());
  if (!wanted.includes(etagOf(row))) {
    throw scimError(412, undefined, 'The resource changed since that version (If-Match): fetch it again.');
  }
}

/** The SCIM token as the actor of audit rows. */
export function scimActor(actor: ScimPrincipal): AuditActor {
  return { actorType: 'scim_token', actorId: actor.actorId };
}

/** `startIndex` / `count`: a whole number (from 1, or from 0 for count), at most a million. */
export function positive(value: string | undefined, fallback: number, name: string, zero = false): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < (zero ? 0 : 1) || number > 1_000_000) {
    throw scimError(400, 'invalidValue', `${name} must be a whole number${zero ? '' : ' from 1'}`);
  }
  return number;
}

/** A string attribute: NFC, trimmed, bounded, no control characters; empty or absent is null. */
export function text(value: unknown, name: string, max: number, required = false): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw scimError(400, 'invalidValue', `${name} is required`);
    return null;
  }
  if (typeof value !== 'string') throw scimError(400, 'invalidValue', `${name} must be a string`);
  const trimmed = value.normalize('NFC').trim();
  if (trimmed.length > max) throw scimError(400, 'invalidValue', `${name} has at most ${max} characters`);
  if (!NO_CONTROL_CHARACTERS.test(trimmed)) {
    throw scimError(400, 'invalidValue', `${name} must not contain control characters`);
  }
  return trimmed;
}

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string | undefined;
  value: unknown;
  index: number;
}

/**
 * The operations of a PatchOp body (RFC 7644 §3.5.2), checked for shape: the PatchOp schema, 1 to
 * `max` operations, each `op` add/replace/remove in any letter case (Entra ID sends "Replace"),
 * `path` a string of at most 300 characters when present.
 */
export function readPatchOperations(body: unknown, max: number): PatchOperation[] {
  const patch = body as { schemas?: unknown; Operations?: unknown } | null;
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw scimError(400, 'invalidSyntax', 'The body must be a PatchOp.');
  }
  if (!Array.isArray(patch.schemas) || !patch.schemas.includes(PATCH_OP)) {
    throw scimError(400, 'invalidValue', `schemas must include ${PATCH_OP}`);
  }
  if (!Array.isArray(patch.Operations) || patch.Operations.length === 0) {
    throw scimError(400, 'invalidValue', 'Operations must list at least one operation');
  }
  if (patch.Operations.length > max) {
    throw scimError(400, 'invalidValue', `a PatchOp has at most ${max} operations`);
  }
  return (patch.Operations as unknown[]).map((raw, index) => {
    const operation = (typeof raw === 'object' && raw !== null ? raw : {}) as {
      op?: unknown;
      path?: unknown;
      value?: unknown;
    };
    const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw scimError(400, 'invalidSyntax', `Operations[${index}].op must be add, replace or remove`);
    }
    if (operation.path !== undefined && (typeof operation.path !== 'string' || operation.path.length > 300)) {
      throw scimError(400, 'invalidPath', `Operations[${index}].path must be an attribute path`);
    }
    return { op, path: operation.path, value: operation.value, index };
  });
}
