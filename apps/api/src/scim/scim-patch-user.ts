import { scimError } from './scim-errors';
import { readPatchOperations } from './scim-values';

/** The User fields a PATCH can reach; anything else in a path is refused, nothing is written by name. */
export interface PatchableUser {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  displayName: string | null;
  active: boolean;
  /** The account's address: shown, never changed by the IdP. */
  email: string;
}

type Field = Exclude<keyof PatchableUser, 'email'> | 'email' | 'ignored';

const CORE_URN = 'urn:ietf:params:scim:schemas:core:2.0:user:';
const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user';
const MAX_OPERATIONS = 100;

/** Attribute paths (lower-case, without the core URN) and the field each reaches. A Map: no inherited names. */
const PATHS = new Map<string, Field>([
  ['username', 'userName'],
  ['externalid', 'externalId'],
  ['displayname', 'displayName'],
  ['name.givenname', 'givenName'],
  ['name.familyname', 'familyName'],
  ['name.formatted', 'ignored'],
  ['active', 'active'],
  ['emails', 'email'],
  ['emails.value', 'email'],
]);

/** `emails[type eq "work"].value` and `emails[primary eq true].value`: the one address there is. */
const EMAIL_FILTER = /^emails\[\s*(type\s+eq\s+"work"|primary\s+eq\s+true)\s*\]\.value$/i;

function fieldOf(path: string, index: number): Field {
  const lower = path.trim().toLowerCase();
  if (lower.startsWith(ENTERPRISE_URN)) return 'ignored';
  const bare = lower.startsWith(CORE_URN) ? lower.slice(CORE_URN.length) : lower;
  if (EMAIL_FILTER.test(bare)) return 'email';
  const field = PATHS.get(bare);
  if (!field) throw scimError(400, 'invalidPath', `Operations[${index}].path ${path.slice(0, 100)} is not supported`);
  return field;
}

/** A boolean as IdPs send it: true/false, or Entra ID's "True"/"False" strings. */
function bool(value: unknown, index: number): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw scimError(400, 'invalidValue', `Operations[${index}]: active must be true or false`);
}

function optionalText(value: unknown, index: number, name: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw scimError(400, 'invalidValue', `Operations[${index}]: ${name} must be a string`);
  return value;
}

/** The address an `emails` value names (a list of {value}, a {value}, or the bare string). */
function emailIn(value: unknown): string | undefined {
  const list: unknown[] | undefined = Array.isArray(value) ? (value as unknown[]) : undefined;
  const entry: unknown = list
    ? (list.find(
        (item) => typeof item === 'object' && item !== null && (item as { primary?: unknown }).primary === true,
      ) ?? list[0])
    : value;
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'object' && entry !== null && typeof (entry as { value?: unknown }).value === 'string') {
    return (entry as { value: string }).value;
  }
  return undefined;
}

function set(user: PatchableUser, field: Field, value: unknown, index: number, removing: boolean): void {
  switch (field) {
    case 'ignored':
      return;
    case 'email': {
      const wanted = removing ? undefined : emailIn(value)?.trim().toLowerCase();
      if (wanted !== user.email) {
        throw scimError(
          400,
          'mutability',
          "emails: the account's address is the person's; provisioning cannot change it",
        );
      }
      return;
    }
    case 'active':
      if (removing) throw scimError(400, 'mutability', `Operations[${index}]: active cannot be removed`);
      user.active = bool(value, index);
      return;
    case 'userName': {
      if (removing) throw scimError(400, 'mutability', `Operations[${index}]: userName is required`);
      const text = optionalText(value, index, 'userName');
      if (!text) throw scimError(400, 'invalidValue', `Operations[${index}]: userName is required`);
      user.userName = text;
      return;
    }
    default:
      user[field] = removing ? null : optionalText(value, index, field);
  }
}

/** A path-less add/replace: `{active: false}`, `{"name.givenName": …}`, `{name: {…}}`, extension objects. */
function setAll(user: PatchableUser, value: unknown, index: number): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw scimError(400, 'invalidValue', `Operations[${index}].value must be an object when there is no path`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.toLowerCase() === 'name' || key.toLowerCase() === `${CORE_URN}name`) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw scimError(400, 'invalidValue', `Operations[${index}].value.name must be an object`);
      }
      for (const [part, text] of Object.entries(item as Record<string, unknown>)) {
        set(user, fieldOf(`name.${part}`, index), text, index, false);
      }
      continue;
    }
    set(user, fieldOf(key, index), item, index, false);
  }
}

/**
 * Applies a SCIM PatchOp (RFC 7644 §3.5.2) to the few attributes a User has here, in the forms Okta
 * and Entra ID send (path-less value objects, "Replace", "False"). Written by hand rather than with
 * a generic JSON patcher: only known attributes are reached, by a fixed map, so no path can write
 * anywhere else (`__proto__.x` is just an unsupported path).
 */
export function applyUserPatch(current: PatchableUser, body: unknown): PatchableUser {
  const user: PatchableUser = { ...current };
  for (const { op, path, value, index } of readPatchOperations(body, MAX_OPERATIONS)) {
    if (path === undefined) {
      if (op === 'remove') throw scimError(400, 'noTarget', `Operations[${index}] removes nothing`);
      setAll(user, value, index);
      continue;
    }
    set(user, fieldOf(path, index), value, index, op === 'remove');
  }
  return user;
}
