import { isUuid } from '@app/common';
import { scimError } from './scim-errors';
import { readPatchOperations } from './scim-values';

/** Member values one request may name, in all its operations together. */
export const MAX_MEMBERS_PER_REQUEST = 10_000;
const MAX_OPERATIONS = 1_000;
const CORE_URN = 'urn:ietf:params:scim:schemas:core:2.0:group:';

/**
 * What a Group PatchOp comes to: the new name and external id, and the member list's net change.
 * `replaceAll` means the list starts empty (a `replace` of members, or `remove` of all of them)
 * before `add`; otherwise `remove` comes out of the current list and `add` goes in.
 */
export interface GroupPatch {
  displayName?: string;
  externalId?: string | null;
  replaceAll: boolean;
  add: Set<string>;
  remove: Set<string>;
}

/** `members[value eq "…"]`, the form Okta removes one member with. */
const MEMBER_FILTER = /^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$/i;

/**
 * Member ids from a `members` value: a list of `{value}` objects (Okta, Entra ID), or one object.
 * Counted against the request's bound as they are read, so a huge list is refused before it is kept.
 */
export function memberIds(value: unknown, where: string, counted: { n: number }): string[] {
  const list: unknown[] = Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value];
  const ids: string[] = [];
  for (const [index, item] of list.entries()) {
    counted.n += 1;
    if (counted.n > MAX_MEMBERS_PER_REQUEST) {
      throw scimError(400, 'invalidValue', `a request names at most ${MAX_MEMBERS_PER_REQUEST} members`);
    }
    const id = typeof item === 'object' && item !== null ? (item as { value?: unknown }).value : undefined;
    if (typeof id !== 'string' || !isUuid(id)) {
      throw scimError(400, 'invalidValue', `${where}[${index}].value must be the id of a User here`);
    }
    ids.push(id.toLowerCase());
  }
  return ids;
}

/**
 * Reads a Group PatchOp (RFC 7644 §3.5.2) in the forms Okta and Entra ID send: members added and
 * removed by list or by `members[value eq "…"]`, a path-less replace of `displayName` (with the
 * group's `id` beside it, ignored), "Add"/"Replace"/"Remove" in any case. Only displayName,
 * externalId and members are reached; any other path is invalidPath.
 */
export function readGroupPatch(body: unknown): GroupPatch {
  const operations = readPatchOperations(body, MAX_OPERATIONS);
  const result: GroupPatch = { replaceAll: false, add: new Set(), remove: new Set() };
  const counted = { n: 0 };
  const add = (ids: string[]) => {
    for (const id of ids) {
      result.add.add(id);
      result.remove.delete(id);
    }
  };
  const remove = (ids: string[]) => {
    for (const id of ids) {
      result.add.delete(id);
      if (!result.replaceAll) result.remove.add(id);
    }
  };
  const replace = (ids: string[]) => {
    result.replaceAll = true;
    result.add = new Set(ids);
    result.remove = new Set();
  };
  const setAttribute = (name: string, value: unknown, index: number, op: string) => {
    switch (name) {
      case 'displayname':
        if (op === 'remove') throw scimError(400, 'mutability', `Operations[${index}]: displayName is required`);
        if (typeof value !== 'string') {
          throw scimError(400, 'invalidValue', `Operations[${index}]: displayName must be a string`);
        }
        result.displayName = value;
        return;
      case 'externalid':
        if (op !== 'remove' && value !== null && typeof value !== 'string') {
          throw scimError(400, 'invalidValue', `Operations[${index}]: externalId must be a string`);
        }
        result.externalId = op === 'remove' ? null : (value as string | null);
        return;
      case 'members': {
        const where = `Operations[${index}].value`;
        if (op === 'remove') {
          // Entra ID names the members to remove in value; without one, all go.
          if (value === undefined) replace([]);
          else remove(memberIds(value, where, counted));
        } else if (op === 'add') add(memberIds(value, where, counted));
        else replace(memberIds(value, where, counted));
        return;
      }
      case 'id':
      case 'schemas':
      case 'meta':
        // Okta sends the group's id beside the new name; read-only, so nothing to change.
        if (op === 'remove') throw scimError(400, 'mutability', `Operations[${index}]: ${name} is read-only`);
        return;
      default:
        throw scimError(
          400,
          'invalidPath',
          `Operations[${index}]: ${name.slice(0, 100)} is not an attribute of a Group`,
        );
    }
  };
  for (const { op, path, value, index } of operations) {
    if (path === undefined) {
      if (op === 'remove') throw scimError(400, 'noTarget', `Operations[${index}] removes nothing`);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw scimError(400, 'invalidValue', `Operations[${index}].value must be an object when there is no path`);
      }
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        setAttribute(bare(key), item, index, op);
      }
      continue;
    }
    const filtered = MEMBER_FILTER.exec(bare(path));
    if (filtered) {
      if (op !== 'remove') {
        throw scimError(400, 'invalidPath', `Operations[${index}]: members[...] is a target for remove only`);
      }
      const id = filtered[1] ?? '';
      if (!isUuid(id)) throw scimError(400, 'invalidValue', `Operations[${index}]: the member id is not a User here`);
      remove(memberIds([{ value: id }], `Operations[${index}].path`, counted));
      continue;
    }
    setAttribute(bare(path), value, index, op);
  }
  return result;
}

/** A path or key lower-cased, without the Group schema's URN. */
function bare(path: string): string {
  const lower = path.trim().toLowerCase();
  return lower.startsWith(CORE_URN) ? lower.slice(CORE_URN.length) : lower;
}
