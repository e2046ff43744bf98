import { isUuid } from '@app/common';
import { parse, type AttrExp, type Filter } from 'scim2-parse-filter';
import { scimError } from './scim-errors';

/** What a SCIM filter attribute of a User is in SQL (`su` scim_users, `u` users). */
interface Column {
  sql: string;
  kind: 'text' | 'ci-text' | 'boolean' | 'time' | 'id';
}

const USER_COLUMNS: Record<string, Column> = {
  id: { sql: 'su.id', kind: 'id' },
  username: { sql: 'su.user_name', kind: 'ci-text' },
  externalid: { sql: 'su.external_id', kind: 'text' },
  displayname: { sql: 'su.display_name', kind: 'ci-text' },
  'name.givenname': { sql: 'su.given_name', kind: 'ci-text' },
  'name.familyname': { sql: 'su.family_name', kind: 'ci-text' },
  active: { sql: 'su.active', kind: 'boolean' },
  emails: { sql: 'u.email', kind: 'ci-text' },
  'emails.value': { sql: 'u.email', kind: 'ci-text' },
  'meta.lastmodified': { sql: 'su.updated_at', kind: 'time' },
  'meta.created': { sql: 'su.created_at', kind: 'time' },
};

/** A Group's attributes (`sg` scim_groups). */
const GROUP_COLUMNS: Record<string, Column> = {
  id: { sql: 'sg.id', kind: 'id' },
  displayname: { sql: 'sg.display_name', kind: 'ci-text' },
  externalid: { sql: 'sg.external_id', kind: 'text' },
  'meta.lastmodified': { sql: 'sg.updated_at', kind: 'time' },
  'meta.created': { sql: 'sg.created_at', kind: 'time' },
};

/** A Group's members, inside `members[...]` or as `members.value` (`m` scim_group_members). */
const MEMBER_COLUMNS: Record<string, Column> = {
  'members.value': { sql: 'm.scim_user_id', kind: 'id' },
  members: { sql: 'm.scim_user_id', kind: 'id' },
};

const MAX_FILTER_CHARS = 1_000;
const MAX_NODES = 50;
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:user:';
const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:group:';

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/**
 * A SCIM filter (RFC 7644 §3.4.2.2, parsed by scim2-parse-filter) as a parameterised SQL
 * condition over the supported User attributes. Values only ever travel as parameters; an
 * unsupported attribute or operator, a malformed or oversized filter is 400 invalidFilter.
 * `params` is appended to; placeholders continue from its length.
 */
export function userFilterSql(filter: string, params: unknown[]): string {
  return filterSql(filter, params, 'user');
}

/**
 * The same for Groups: displayName, externalId, id, meta.*, and membership as
 * `members[value eq "…"]` or `members.value eq "…"` (Entra ID's "is this user in this group").
 */
export function groupFilterSql(filter: string, params: unknown[]): string {
  return filterSql(filter, params, 'group');
}

function filterSql(filter: string, params: unknown[], resource: 'user' | 'group'): string {
  if (filter.length > MAX_FILTER_CHARS) throw invalid(`a filter has at most ${MAX_FILTER_CHARS} characters`);
  let ast: Filter;
  try {
    ast = parse(filter);
  } catch {
    throw invalid('the filter is not valid SCIM filter syntax');
  }
  let nodes = 0;
  const placeholder = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const columns = resource === 'user' ? USER_COLUMNS : GROUP_COLUMNS;
  const urn = resource === 'user' ? USER_URN : GROUP_URN;
  const members = (condition: string) =>
    `EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = sg.id AND ${condition})`;
  const translate = (node: Filter, within?: 'emails' | 'members'): string => {
    nodes += 1;
    if (nodes > MAX_NODES) throw invalid(`a filter has at most ${MAX_NODES} terms`);
    switch (node.op) {
      case 'and':
      case 'or':
        return `(${node.filters.map((child) => translate(child, within)).join(node.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${translate(node.filter, within)})`;
      case '[]': {
        const complex = normalise(node.attrPath, urn);
        if (resource === 'user' && complex === 'emails') return translate(node.valFilter, 'emails');
        if (resource === 'group' && complex === 'members') return members(translate(node.valFilter, 'members'));
        throw invalid(`${node.attrPath}[...] is not supported`);
      }
      default:
        break;
    }
    const attribute = within ? `${within}.${node.attrPath}` : node.attrPath;
    const key = normalise(attribute, urn);
    if (resource === 'user') {
      // The one address an account has is its work address, and primary.
      if (key === 'emails.type') return comparesTo(node, 'work') ? 'TRUE' : 'FALSE';
      if (key === 'emails.primary') return comparesTo(node, true) ? 'TRUE' : 'FALSE';
    } else if (key === 'members' || key === 'members.value') {
      const inner = MEMBER_COLUMNS[key]!;
      // Outside brackets the test is on some member; inside, the EXISTS is already open.
      const condition = compare(node, attribute, inner);
      return within === 'members' ? condition : members(condition);
    }
    const column = columns[key];
    if (!column) throw invalid(`filtering on ${attribute} is not supported`);
    return compare(node, attribute, column);
  };
  const compare = (node: AttrExp, attribute: string, column: Column): string => {
    if (node.op === 'pr') return `(${column.sql} IS NOT NULL)`;
    const value = node.compValue;
    if (column.kind === 'boolean') {
      if (typeof value !== 'boolean' || (node.op !== 'eq' && node.op !== 'ne')) {
        throw invalid(`${attribute} takes eq or ne with true or false`);
      }
      return `(${column.sql} ${node.op === 'eq' ? '=' : '<>'} ${placeholder(value)})`;
    }
    if (typeof value !== 'string') throw invalid(`${attribute} is compared with a string`);
    if (column.kind === 'time') {
      const time = new Date(value);
      if (Number.isNaN(time.getTime())) throw invalid(`${attribute} is compared with a date-time`);
      const operator = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' }[node.op as string];
      if (!operator) throw invalid(`${node.op} does not apply to ${attribute}`);
      return `(${column.sql} ${operator} ${placeholder(time)})`;
    }
    if (column.kind === 'id') {
      if (node.op !== 'eq' && node.op !== 'ne') throw invalid('id takes eq or ne');
      if (!isUuid(value)) return node.op === 'eq' ? 'FALSE' : 'TRUE';
      return `(${column.sql} ${node.op === 'eq' ? '=' : '<>'} ${placeholder(value.toLowerCase())})`;
    }
    const ci = column.kind === 'ci-text';
    const left = ci ? `lower(${column.sql})` : column.sql;
    const right = ci ? value.toLowerCase() : value;
    switch (node.op) {
      case 'eq':
        return `(${left} = ${placeholder(right)})`;
      case 'ne':
        return `(${left} IS DISTINCT FROM ${placeholder(right)})`;
      case 'co':
        return `(${left} LIKE ${placeholder(`%${escapeLike(right)}%`)})`;
      case 'sw':
        return `(${left} LIKE ${placeholder(`${escapeLike(right)}%`)})`;
      case 'ew':
        return `(${left} LIKE ${placeholder(`%${escapeLike(right)}`)})`;
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return `(${left} ${{ gt: '>', ge: '>=', lt: '<', le: '<=' }[node.op]} ${placeholder(right)})`;
      default:
        throw invalid(`the operator ${String((node as { op: unknown }).op)} is not supported`);
    }
  };
  return translate(ast);
}

/** An attribute path, lower-cased, without the core schema's URN in front. */
function normalise(path: string, urn: string): string {
  const lower = path.toLowerCase();
  return lower.startsWith(urn) ? lower.slice(urn.length) : lower;
}

function comparesTo(node: Filter, expected: string | boolean): boolean {
  if (node.op === 'pr') return true;
  if (!('compValue' in node)) return false;
  const value = typeof node.compValue === 'string' ? node.compValue.toLowerCase() : node.compValue;
  return node.op === 'eq' ? value === expected : node.op === 'ne' ? value !== expected : false;
}

function invalid(detail: string) {
  return scimError(400, 'invalidFilter', detail);
}
