import type { RoleScope } from '@app/database';
import { PERMISSION_KEYS, roleGrantable, type PermissionKey } from './permission-catalogue';

/** What roles can hold at all. */
const ROLE_KEYS = PERMISSION_KEYS.filter(roleGrantable);

export interface SystemRoleDefinition {
  /** Fixed ids, so assignments and code can refer to system roles on every installation. */
  id: string;
  name: string;
  scope: RoleScope;
  description: string;
  permissions: readonly PermissionKey[];
}

const READ_ONLY = PERMISSION_KEYS.filter((key) => key.endsWith(':read'));

export const SYSTEM_ROLES = {
  owner: {
    id: '00000000-0000-7000-8000-000000000001',
    name: 'owner',
    scope: 'organization',
    description: 'Everything, including deleting the organization. Only owners can make owners.',
    permissions: ROLE_KEYS,
  },
  admin: {
    id: '00000000-0000-7000-8000-000000000002',
    name: 'admin',
    scope: 'organization',
    description: 'Everything but deleting the organization and managing owners.',
    permissions: ROLE_KEYS.filter((key) => key !== 'organizations:delete'),
  },
  member: {
    id: '00000000-0000-7000-8000-000000000003',
    name: 'member',
    scope: 'organization',
    description: 'Reads the organization and creates teams.',
    permissions: [
      ...READ_ONLY.filter((key) => key !== 'audit-logs:read' && key !== 'api-keys:read'),
      'teams:create',
      'llm:use',
    ],
  },
  viewer: {
    id: '00000000-0000-7000-8000-000000000004',
    name: 'viewer',
    scope: 'organization',
    description: 'Reads the organization.',
    permissions: READ_ONLY.filter((key) => key !== 'audit-logs:read' && key !== 'api-keys:read'),
  },
  'team-admin': {
    id: '00000000-0000-7000-8000-000000000005',
    name: 'team-admin',
    scope: 'team',
    description: 'Manages one team: its details, members and projects.',
    permissions: [
      'teams:read',
      'teams:update',
      'team-members:manage',
      'llm:use',
      'projects:create',
      'projects:read',
      'projects:update',
      'projects:delete',
    ],
  },
  'team-member': {
    id: '00000000-0000-7000-8000-000000000006',
    name: 'team-member',
    scope: 'team',
    description: 'Belongs to one team: sees it and works on its projects.',
    permissions: ['teams:read', 'llm:use', 'projects:read', 'projects:update'],
  },
} as const satisfies Record<string, SystemRoleDefinition>;

export type SystemRoleName = keyof typeof SYSTEM_ROLES;
